from __future__ import annotations

import csv
import shutil
from importlib import resources
from pathlib import Path

import pytest

from bankvoc.nlp.sentiment import (
    Kind,
    LexiconError,
    LexiconSentiment,
    SentimentResult,
    TrainedSentiment,
    load_lexicon,
    parse_folding,
    parse_lexicon,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "zh-sentiment"


@pytest.fixture(scope="module")
def lexicon() -> LexiconSentiment:
    return LexiconSentiment()


class TestLexiconSentimentScoreChinese:
    @pytest.mark.parametrize("text", ["客户经理很耐心，及时帮我解决了问题，非常感谢",
                                      "服务很好，很满意"])
    def test_praise_is_positive(self, lexicon: LexiconSentiment, text: str) -> None:
        assert lexicon.score(text).polarity > 0.5

    @pytest.mark.parametrize("text", ["柜员态度差，敷衍了事，我要投诉", "乱扣费，欺骗客户",
                                      "拖延了一个月还没处理，非常不满"])
    def test_complaints_are_negative(self, lexicon: LexiconSentiment, text: str) -> None:
        assert lexicon.score(text).polarity < -0.5

    def test_a_text_without_sentiment_words_is_neutral(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("请问信用卡账单日是几号") == SentimentResult(0.0, 0.0, ())

    def test_negation_flips_the_next_sentiment_word(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("满意").polarity > 0 > lexicon.score("不满意的地方很多").polarity
        assert lexicon.score("没有问题").polarity > 0

    def test_negation_reaches_only_a_few_characters(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("我不知道为什么大家都说好").polarity > 0

    def test_punctuation_ends_the_reach_of_a_negation(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("不，好").polarity > 0

    def test_degree_words_scale_the_next_sentiment_word(self, lexicon: LexiconSentiment) -> None:
        mild, plain, strong = (lexicon.score(t).polarity for t in ("有点慢", "慢", "非常慢"))
        assert mild > plain > strong

    def test_not_very_good_is_milder_than_bad(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("差").polarity < lexicon.score("不太好").polarity < 0

    def test_what_follows_but_counts_more(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("房间干净，但是很吵").polarity < 0
        assert lexicon.score("房间很吵，但是干净").polarity > 0

    def test_exclamation_marks_strengthen_without_turning(self,
                                                          lexicon: LexiconSentiment) -> None:
        calm, loud = lexicon.score("太差了。"), lexicon.score("太差了！！！")
        assert loud.polarity < calm.polarity < 0
        assert loud.intensity > calm.intensity

    def test_mixed_feelings_are_intense_but_not_polar(self, lexicon: LexiconSentiment) -> None:
        result = lexicon.score("很满意，很失望")
        assert abs(result.polarity) < result.intensity

    def test_words_that_only_contain_a_sentiment_word_are_neutral(
            self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("我出差好像差不多一周").polarity == 0

    def test_traditional_characters_read_like_simplified(self,
                                                         lexicon: LexiconSentiment) -> None:
        result = lexicon.score("這家店的飯菜很難吃")
        assert result.polarity < 0
        assert result.words == ("很難吃",)

    def test_words_carry_their_modifiers_as_written(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("网点服务不太好").words == ("不太好",)

    def test_words_are_the_strongest_first(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("还行，就是态度恶劣").words[0] == "态度恶劣"

    def test_jieba_segmentation_gives_the_same_direction(self) -> None:
        segmented = LexiconSentiment(segmenter="jieba")
        assert segmented.score("柜员态度很差").polarity < 0 < segmented.score("很满意").polarity


class TestLexiconSentimentScoreEnglish:
    def test_praise_is_positive(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("Thank you, the agent was very helpful.").polarity > 0.5

    def test_complaints_are_negative(self, lexicon: LexiconSentiment) -> None:
        text = "The bank charged unauthorized fees and the staff were rude. Unacceptable!"
        assert lexicon.score(text).polarity < -0.5

    @pytest.mark.parametrize("text", ["They were not helpful", "They weren't helpful",
                                      "never helpful", "It didn’t help and wasn't good"])
    def test_negation_flips(self, lexicon: LexiconSentiment, text: str) -> None:
        assert lexicon.score(text).polarity < 0

    def test_degree_words_scale(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("extremely rude").polarity < lexicon.score("rude").polarity

    def test_evidence_joins_the_modifiers(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("not very helpful").words == ("not very helpful",)

    def test_words_are_whole_words(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("badminton goodwill").polarity == 0

    @pytest.mark.parametrize("text", ["It wasn't helpful", "It wasn’t helpful",
                                      "It ISN'T HELPFUL", "They didn't. It wasn't helpful"])
    def test_any_word_ending_in_nt_negates(self, lexicon: LexiconSentiment, text: str) -> None:
        assert lexicon.score(text).polarity < 0
        assert "helpful" in lexicon.score(text).words[0]

    def test_a_sentiment_word_out_of_reach_is_unchanged(self, lexicon: LexiconSentiment) -> None:
        assert lexicon.score("not that I think it is helpful") == lexicon.score("helpful")


class TestLexiconSentimentScoreMany:
    def test_scores_each_text_in_order(self, lexicon: LexiconSentiment) -> None:
        results = lexicon.score_many(["很满意", "很差", ""])
        assert [r.polarity > 0 for r in results[:2]] == [True, False]
        assert results[2] == SentimentResult(0.0, 0.0, ())


class TestParseLexicon:
    def test_reads_words_weights_and_comments(self) -> None:
        entries = parse_lexicon("# header\n好 0.8\n\n差\n", kind=Kind.SENTIMENT, sign=-1.0,
                                default=1.0, source="x.txt")
        assert entries == {"好": (Kind.SENTIMENT, -0.8), "差": (Kind.SENTIMENT, -1.0)}

    @pytest.mark.parametrize(("text", "reason"), [
        ("好 很 多\n", "line 1: expected WORD"), ("# c\n好 high\n", "line 2: weight 'high'"),
        ("好\n好\n", "line 2: '好' is listed twice")])
    def test_refuses_a_bad_line_naming_it(self, text: str, reason: str) -> None:
        with pytest.raises(LexiconError, match=reason):
            parse_lexicon(text, kind=Kind.SENTIMENT, sign=1.0, default=1.0, source="x.txt")


class TestLoadLexicon:
    def test_the_shipped_lists_load_without_conflicts(self) -> None:
        assert len(load_lexicon("zh")) > 500
        assert len(load_lexicon("en")) > 100

    def test_refuses_a_word_in_two_lists(self, tmp_path: Path) -> None:
        shipped = resources.files("bankvoc.nlp").joinpath("lexicons")
        for item in shipped.iterdir():
            (tmp_path / item.name).write_text(item.read_text("utf-8"), "utf-8")
        with (tmp_path / "zh_negative.txt").open("a", encoding="utf-8") as handle:
            handle.write("满意\n")
        with pytest.raises(LexiconError, match="'满意' is already in another zh list"):
            load_lexicon("zh", tmp_path)

    def test_a_bank_can_point_at_its_own_lists(self, tmp_path: Path) -> None:
        shipped = Path(str(resources.files("bankvoc.nlp").joinpath("lexicons")))
        shutil.copytree(shipped, tmp_path, dirs_exist_ok=True)
        (tmp_path / "zh_positive.txt").write_text("秒批 2.0\n", "utf-8")
        assert LexiconSentiment(lexicon_dir=tmp_path).score("贷款秒批").polarity > 0.5


class TestParseFolding:
    def test_reads_character_pairs(self) -> None:
        assert parse_folding("# c\n說 说\n", source="t.txt") == {ord("說"): "说"}

    def test_refuses_more_than_one_character(self) -> None:
        with pytest.raises(LexiconError, match=r"t\.txt line 1"):
            parse_folding("說話 说话\n", source="t.txt")


TRAIN = (["服务很好很满意", "非常满意，谢谢", "态度好，效率高", "很好，推荐"] * 3
         + ["服务很差，投诉", "太差了，不满意", "态度恶劣，效率低", "很差，失望"] * 3)
LABELS = ["positive"] * 12 + ["negative"] * 12


class TestTrainedSentiment:
    def test_polarity_follows_the_learned_direction(self) -> None:
        model = TrainedSentiment(min_df=1).fit(TRAIN, LABELS)
        good, bad = model.score_many(["很满意", "太差"])
        assert good.polarity > 0 > bad.polarity
        assert good.intensity == abs(good.polarity)

    def test_words_are_the_ngrams_that_pushed_that_way(self) -> None:
        model = TrainedSentiment(min_df=1).fit(TRAIN, LABELS)
        assert "满意" in model.score("很满意").words

    def test_the_positive_label_can_be_any_value(self) -> None:
        model = TrainedSentiment(min_df=1, positive_label=1).fit(TRAIN, [1] * 12 + [0] * 12)
        assert model.score("很满意").polarity > 0

    def test_refuses_a_positive_label_it_never_saw(self) -> None:
        with pytest.raises(ValueError, match="positive_label 'pos'"):
            TrainedSentiment(min_df=1, positive_label="pos").fit(TRAIN, LABELS)

    def test_three_labels_need_the_negative_one_named(self) -> None:
        labels = LABELS[:-3] + ["neutral"] * 3
        with pytest.raises(ValueError, match="name the negative_label"):
            TrainedSentiment(min_df=1).fit(TRAIN, labels)
        model = TrainedSentiment(min_df=1, negative_label="negative").fit(TRAIN, labels)
        assert model.score("很满意").polarity > 0

    def test_follows_the_scikit_learn_parameter_contract(self) -> None:
        from sklearn.base import clone

        model = TrainedSentiment(C=2.0)
        copy = clone(model)
        assert copy.get_params() == model.get_params()
        assert copy.set_params(C=3.0).C == 3.0
        with pytest.raises(ValueError, match="invalid parameter"):
            model.set_params(alpha=1)


@pytest.mark.slow
class TestOnRealReviews:
    """zh-sentiment dev (hotel and food-delivery reviews); skipped when the data is absent."""

    def test_the_lexicon_reaches_three_quarters_accuracy(self,
                                                         lexicon: LexiconSentiment) -> None:
        if not (DATA / "dev.csv").exists():
            pytest.skip(f"no data at {DATA}")
        with (DATA / "dev.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        results = lexicon.score_many(r["text"] for r in rows)
        right = sum((r["label"] == "positive") == (s.polarity > 0) and s.polarity != 0
                    for r, s in zip(rows, results, strict=True))
        assert right / len(rows) >= 0.75
