"""`inspect`: one class per rule category of the shipped rules, near misses included, and the
score computed by hand from the weights in qa_rules.yaml."""

from __future__ import annotations

import pytest

from bankvoc.contact.emotion import DESCRIBED, anger_cues, customer_mood
from bankvoc.contact.inspection import QaHit, QaResult, inspect, spoken_chars
from bankvoc.contact.rules import RuleSet, load_ruleset, parse_ruleset
from bankvoc.nlp.sentiment import LexiconSentiment
from tests.contact.conftest import CLEAN, A, C, Spec, call


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_ruleset()


def changed(at: int, text: str | None = None, *, start: float | None = None,
            end: float | None = None, speaker: str | None = None) -> list[Spec]:
    """CLEAN with one turn changed."""
    turns = list(CLEAN)
    s, a, b, t = turns[at]
    turns[at] = (speaker or s, a if start is None else start, b if end is None else end,
                 t if text is None else text)
    return turns


def hits(result: QaResult, category: str) -> list[tuple[int | None, str]]:
    return [(h.turn, h.evidence) for h in result.hits if h.category == category]


class TestClean:
    def test_a_clean_call_scores_100(self, rules: RuleSet) -> None:
        result = inspect(call(CLEAN), rules)
        assert (result.score, result.hits, result.rules_version) == (100, (), 1)

    def test_to_dict_is_the_json_lines_object(self, rules: RuleSet) -> None:
        result = inspect(call(changed(0, "喂，说吧，什么问题。")), rules)
        assert result.to_dict() == {"id": "CALL-1", "score": 95, "hits": [
            {"category": "greeting", "rule": "greeting_first_turn", "turn": 0,
             "evidence": "喂，说吧，什么问题。"}]}


class TestGreeting:
    @pytest.mark.parametrize("words", ["早上好，恒通银行客服中心，请讲。",
                                       "欢迎致电华信银行，请问您需要办理什么业务？",
                                       "江南银行，工号 3021，很高兴为您服务。"])
    def test_greetings_in_other_words(self, rules: RuleSet, words: str) -> None:
        assert hits(inspect(call(changed(0, words)), rules), "greeting") == []

    def test_no_greeting_in_the_first_agent_turn(self, rules: RuleSet) -> None:
        result = inspect(call(changed(0, "喂，哪位？讲。")), rules)
        assert hits(result, "greeting") == [(0, "喂，哪位？讲。")]
        assert result.score == 95

    def test_a_greeting_later_does_not_count(self, rules: RuleSet) -> None:
        turns = changed(0, "喂，哪位？讲。")
        turns[2] = (A, 11.0, 17.0, "您好，需要先核实一下您的身份，请提供身份证后四位。")
        assert hits(inspect(call(turns), rules), "greeting") == [(0, "喂，哪位？讲。")]

    def test_the_first_agent_turn_is_found_after_the_customer(self, rules: RuleSet) -> None:
        turns = [(C, 0.0, 2.0, "喂？"), *CLEAN]
        turns[1] = (A, 2.5, 6.0, "说吧。")
        assert hits(inspect(call(turns), rules), "greeting") == [(1, "说吧。")]


class TestIdentityCheck:
    def test_details_before_any_check(self, rules: RuleSet) -> None:
        turns = changed(2, "好的，我看一下。", end=13.0)
        result = inspect(call(turns), rules)
        assert hits(result, "identity_check") == [(4, "您账户的余额是3,500元")]
        assert result.critical
        assert result.score == 85

    def test_the_evidence_span_is_in_the_turn(self, rules: RuleSet) -> None:
        turns = changed(2, "好的，我看一下。", end=13.0)
        hit = next(h for h in inspect(call(turns), rules).hits if h.category == "identity_check")
        assert hit.span is not None
        assert CLEAN[4][3][hit.span[0]:hit.span[1]] == "您账户的余额是3,500元"

    @pytest.mark.parametrize("check", ["请问您的身份证最后四位是多少？",
                                       "麻烦您报一下开户预留的手机号码。",
                                       "先跟您确认一下持卡人的姓名和证件后六位。"])
    def test_checks_in_other_words(self, rules: RuleSet, check: str) -> None:
        assert hits(inspect(call(changed(2, check)), rules), "identity_check") == []

    def test_no_details_no_check_needed(self, rules: RuleSet) -> None:
        turns = changed(2, "好的，我了解了。", end=13.0)
        turns[4] = (A, 20.0, 28.0, "手机银行首页点“我的”就能看到明细。我帮您查一下，请您稍等。")
        assert hits(inspect(call(turns), rules), "identity_check") == []

    def test_the_check_must_come_first_within_a_turn(self, rules: RuleSet) -> None:
        turns = changed(2, "您的余额是3,500元，不过先核实一下您的身份。")
        assert hits(inspect(call(turns), rules), "identity_check") == [(2, "余额是3,500元")]


class TestClosing:
    def test_no_closing(self, rules: RuleSet) -> None:
        result = inspect(call(changed(7, "嗯，就这样吧。")), rules)
        assert hits(result, "closing") == [(7, "嗯，就这样吧。")]
        assert result.score == 95

    def test_the_closing_may_be_in_the_last_but_one_agent_turn(self, rules: RuleSet) -> None:
        turns = changed(7, "好。")
        turns[5] = (A, 53.0, 59.0, "让您久等了，查询到是工资入账。请问还有其他可以帮您的吗？")
        assert hits(inspect(call(turns), rules), "closing") == []

    def test_thanks_for_waiting_is_not_a_closing(self, rules: RuleSet) -> None:
        turns = changed(7, "嗯，就这样吧。")
        turns[5] = (A, 53.0, 59.0, "感谢您的耐心等待，查询到是工资入账。")
        assert hits(inspect(call(turns), rules), "closing") == [(7, "嗯，就这样吧。")]


WEALTH: list[Spec] = [
    (A, 0.0, 6.0, "您好，工号1234为您服务，请问有什么可以帮您？"),
    (C, 7.0, 10.0, "我想买一款理财产品。"),
    (A, 11.0, 19.0, "好的，这款产品期限九十天，业绩比较基准百分之三。"),  # 20 characters
    (C, 20.0, 21.0, "好的。"),
    (A, 22.0, 27.0, "感谢您的来电，祝您生活愉快，再见！"),
]


class TestRiskDisclosure:
    def test_missing_on_a_wealth_call(self, rules: RuleSet) -> None:
        result = inspect(call(WEALTH, product="wealth"), rules)
        assert hits(result, "risk_disclosure") == [(0, WEALTH[0][3])]
        assert (result.score, result.critical) == (80, True)

    @pytest.mark.parametrize("words", [
        "提示您，理财非存款、产品有风险、投资须谨慎。",
        "理财产品不是存款，它是有风险的，您投资的时候一定要谨慎。",
        "请您知悉，理财不等于存款，本金和收益都有风险，请谨慎投资。"])
    def test_said_in_other_words(self, rules: RuleSet, words: str) -> None:
        turns = list(WEALTH)
        turns[2] = (A, 11.0, 19.0, words)
        assert hits(inspect(call(turns, product="wealth"), rules), "risk_disclosure") == []

    def test_a_hint_of_risk_is_not_the_disclosure(self, rules: RuleSet) -> None:
        turns = list(WEALTH)
        turns[2] = (A, 11.0, 19.0, "这款产品有一定风险，收益不保证，您谨慎考虑。")
        assert len(hits(inspect(call(turns, product="wealth"), rules), "risk_disclosure")) == 1

    def test_a_wealth_product_mentioned_on_another_call(self, rules: RuleSet) -> None:
        # The product says debit card, but the customer asks to buy a wealth product (turn 1).
        result = inspect(call(WEALTH, product="debit_card"), rules)
        assert hits(result, "risk_disclosure") == [(1, "我想买一款理财产品。")]

    def test_not_required_on_other_calls(self, rules: RuleSet) -> None:
        assert hits(inspect(call(CLEAN), rules), "risk_disclosure") == []


class TestForbiddenPhrase:
    @pytest.mark.parametrize(("words", "evidence"), [
        ("这事不归我管。", "这事不归我管"),
        ("这个我不清楚，找网点吧。", "这个我不清楚"),
        ("你自己去APP上看。", "你自己去APP上看"),
        ("那我也没辙了。", "我也没辙"),
        ("这不是我们部门的事。", "这不是我们部门"),
        ("这我哪知道啊。", "这我哪知道"),
    ])
    def test_dismissive_words(self, rules: RuleSet, words: str, evidence: str) -> None:
        result = inspect(call(changed(5, words)), rules)
        assert hits(result, "forbidden_phrase") == [(5, evidence)]
        assert result.critical

    @pytest.mark.parametrize("words", [
        "如果您不知道卡号也没关系，报身份证号也可以。", "不是没办法，我帮您申请特殊处理。",
        "办法总是有的，您别着急。", "您也可以在手机银行里自己查看明细。", "我来帮您想办法。"])
    def test_near_misses_are_not_violations(self, rules: RuleSet, words: str) -> None:
        assert hits(inspect(call(changed(5, words)), rules), "forbidden_phrase") == []

    def test_the_customer_may_say_them(self, rules: RuleSet) -> None:
        turns = changed(6, "我也不知道，我真没办法了，这不归你管吗？")
        assert hits(inspect(call(turns), rules), "forbidden_phrase") == []

    def test_two_hits_deduct_twice_three_still_twice(self, rules: RuleSet) -> None:
        said = "让您久等了，查询到是工资入账。"
        two = inspect(call(changed(5, said + "这事不归我管，我也没辙。")), rules)
        three = inspect(call(changed(5, said + "这事不归我管，我也没辙，你问别人去。")), rules)
        assert hits(two, "forbidden_phrase") == [(5, "这事不归我管"), (5, "我也没辙")]
        assert two.score == 70
        assert (len(hits(three, "forbidden_phrase")), three.score) == (3, 70)


class TestSilence:
    def test_dead_air_before_the_agent(self, rules: RuleSet) -> None:
        turns = changed(4, start=31.0, end=39.0)  # 11.5 s after the customer stopped at 19.5
        result = inspect(call(turns), rules)
        assert hits(result, "silence") == [(4, CLEAN[4][3])]
        assert next(h.value for h in result.hits if h.category == "silence") == 11.5
        assert result.score == 95

    def test_ten_seconds_is_not_more_than_ten(self, rules: RuleSet) -> None:
        assert hits(inspect(call(changed(4, start=29.5, end=37.5)), rules), "silence") == []

    def test_an_announced_hold_may_last_a_minute(self, rules: RuleSet) -> None:
        # CLEAN holds 25 s after "请您稍等"; 60 s is still a hold, 61 s is not.
        assert hits(inspect(call(changed(5, start=88.0, end=94.0)), rules), "silence") == []
        late = inspect(call(changed(5, start=89.5, end=95.0)), rules)
        assert [t for t, _ in hits(late, "silence")] == [5]

    def test_a_hold_not_announced_is_silence(self, rules: RuleSet) -> None:
        turns = changed(4, "好的，您账户的余额是3,500元。我帮您查一下最近的交易。")
        assert [t for t, _ in hits(inspect(call(turns), rules), "silence")] == [5]

    def test_the_customer_may_take_their_time(self, rules: RuleSet) -> None:
        turns = changed(3, start=30.0, end=31.5)  # the customer looks for their card
        turns[4:] = [(s, a + 12, b + 12, t) for s, a, b, t in turns[4:]]
        assert hits(inspect(call(turns), rules), "silence") == []


class TestInterruption:
    def test_agent_talks_over_the_customer(self, rules: RuleSet) -> None:
        # The customer speaks 7.0-10.0; the agent starts at 8.5: 1.5 s over them.
        result = inspect(call(changed(2, start=8.5, end=16.0)), rules)
        assert hits(result, "interruption") == [(2, CLEAN[2][3])]
        assert next(h.value for h in result.hits if h.category == "interruption") == 1.5

    def test_one_second_is_not_more_than_one(self, rules: RuleSet) -> None:
        assert hits(inspect(call(changed(2, start=9.0, end=16.0)), rules), "interruption") == []

    def test_the_customer_talking_over_the_agent_is_not_counted(self, rules: RuleSet) -> None:
        # The agent speaks 0-6; the customer starts at 3.
        assert hits(inspect(call(changed(1, start=3.0, end=10.0)), rules), "interruption") == []


class TestSpeechRate:
    def test_too_fast(self, rules: RuleSet) -> None:
        result = inspect(call(changed(2, end=14.0)), rules)  # 22 characters in 3 s: 440
        assert hits(result, "speech_rate") == [(2, CLEAN[2][3])]
        assert next(h.value for h in result.hits if h.category == "speech_rate") == 440.0

    def test_too_slow(self, rules: RuleSet) -> None:
        turns = changed(2, end=23.0)  # 22 characters in 12 s: 110
        turns[3:] = [(s, a + 6, b + 6, t) for s, a, b, t in turns[3:]]
        assert [t for t, _ in hits(inspect(call(turns), rules), "speech_rate")] == [2]

    def test_inside_the_band(self, rules: RuleSet) -> None:
        assert hits(inspect(call(changed(2, end=15.2)), rules), "speech_rate") == []  # 314

    def test_short_turns_are_not_measured(self, rules: RuleSet) -> None:
        assert hits(inspect(call(changed(6, speaker=A, text="好的好的。", end=60.1)), rules),
                    "speech_rate") == []

    def test_punctuation_is_not_spoken(self) -> None:
        assert spoken_chars("您好，工号 1234！“我的”……") == 10


CALM_THEN_ANGRY: list[Spec] = [
    (A, 0.0, 6.0, "您好，工号1234为您服务，请问有什么可以帮您？"),
    (C, 7.0, 9.0, "你好，我想问一下账单。"),
    (A, 10.0, 11.0, "好的。"),
    (C, 12.0, 13.0, "对，是这样。"),
    (A, 14.0, 15.0, "好的。"),
    (C, 16.0, 19.0, "我对你们的处理非常不满意，我要投诉。"),
    (A, 20.0, 21.0, "好的。"),
    (C, 22.0, 25.0, "你们这服务太差了，简直浪费我时间。"),
    (A, 26.0, 31.0, "感谢您的来电，祝您生活愉快，再见！"),
]


class TestEmotion:

    def test_mood_worsens_with_the_project_scorer(self, rules: RuleSet) -> None:
        result = inspect(call(CALM_THEN_ANGRY), rules)
        # the low point of the last two customer turns is the evidence
        assert hits(result, "emotion") == [(5, "我对你们的处理非常不满意，我要投诉。")]
        assert result.score == 90

    def test_by_the_given_mood(self, rules: RuleSet) -> None:
        polarity = {"你好，我想问一下账单。": 0.2, "对，是这样。": 0.0,
                    "我对你们的处理非常不满意，我要投诉。": -0.2,
                    "你们这服务太差了，简直浪费我时间。": -0.4}
        # start 0.1, end -0.3: at most -0.3 and 0.4 below the start
        result = inspect(call(CALM_THEN_ANGRY), rules, mood=polarity.__getitem__)
        assert hits(result, "emotion") == [(7, "你们这服务太差了，简直浪费我时间。")]
        polarity["你好，我想问一下账单。"] = 0.19  # start 0.095: 0.395 below
        assert hits(inspect(call(CALM_THEN_ANGRY), rules, mood=polarity.__getitem__),
                    "emotion") == []

    def test_angry_from_the_start_has_not_worsened(self, rules: RuleSet) -> None:
        turns = list(CALM_THEN_ANGRY)
        turns[1] = (C, 7.0, 9.0, "真是太让人失望了。")
        turns[3] = (C, 12.0, 13.0, "我很不满意你们的服务。")
        assert hits(inspect(call(turns), rules), "emotion") == []

    def test_calming_down_is_not_worsening(self, rules: RuleSet) -> None:
        turns = list(CALM_THEN_ANGRY)
        turns[5] = (C, 16.0, 19.0, "好的，明白了，谢谢。")
        turns[7] = (C, 22.0, 25.0, "好的，非常感谢。")
        assert hits(inspect(call(turns), rules), "emotion") == []

    def test_too_few_customer_turns(self, rules: RuleSet) -> None:
        turns = [t for i, t in enumerate(CALM_THEN_ANGRY) if i not in (1, 2, 3, 4)]
        assert hits(inspect(call(turns), rules), "emotion") == []

    # The wordings below are not the generated corpus' (corpus_phrases): they check that the
    # rule reads a call, not the generator's sentences.

    def test_a_problem_told_calmly_then_anger_with_no_sentiment_word(
            self, rules: RuleSet) -> None:
        turns = list(CALM_THEN_ANGRY)
        turns[1] = (C, 7.0, 9.0, "我的贷款这个月扣款失败了，怎么补还？")  # bad news, said calmly
        turns[5] = (C, 16.0, 19.0, "你们到底还想让我跑几趟？")
        turns[7] = (C, 22.0, 25.0, "我要去媒体曝光你们！")  # the low point: two cues and a "！"
        result = inspect(call(turns), rules)
        assert hits(result, "emotion") == [(7, "我要去媒体曝光你们！")]
        assert result.critical

    def test_angry_from_the_first_words_with_no_sentiment_word(self, rules: RuleSet) -> None:
        turns = list(CALM_THEN_ANGRY)
        turns[1] = (C, 7.0, 9.0, "你们凭什么不经过我同意就扣钱？")
        turns[3] = (C, 12.0, 13.0, "这是我第三次打电话了，说了好几遍了。")
        assert hits(inspect(call(turns), rules), "emotion") == []

    def test_a_calm_call_about_bad_news(self, rules: RuleSet) -> None:
        turns = list(CALM_THEN_ANGRY)
        turns[1] = (C, 7.0, 9.0, "我的信用卡被盗刷了一笔，想申请调查。")
        turns[5] = (C, 16.0, 19.0, "我不是要投诉，就是想了解一下。")
        turns[7] = (C, 22.0, 25.0, "那没问题，我明天去网点办。")
        assert hits(inspect(call(turns), rules), "emotion") == []

    def test_improving_after_a_calm_start(self, rules: RuleSet) -> None:
        turns = list(CALM_THEN_ANGRY)
        turns[5] = (C, 16.0, 19.0, "明白了，谢谢你的耐心解答。")
        turns[7] = (C, 22.0, 25.0, "好的，太好了，谢谢！")
        assert hits(inspect(call(turns), rules), "emotion") == []


class TestCustomerMood:
    @pytest.mark.parametrize("text", [
        "你们这是在浪费我的时间！", "我不想再听你解释了，叫你们经理来接电话。",
        "这种服务态度，我真的受不了了。", "说好三天回复，一周了都没人理我！", "你们就会推卸责任。",
        "我现在非常愤怒。"])
    def test_anger_as_customers_voice_it(self, text: str) -> None:
        assert customer_mood(text) <= -0.45

    @pytest.mark.parametrize("text", [
        "我的APP更新以后打不开了，怎么办？", "我的卡过期了，想换一张新卡。",
        "我的工资卡被冻结了，想问问怎么解冻。", "好的，后四位是5678。"])
    def test_a_problem_told_is_not_anger(self, text: str) -> None:
        assert -0.3 <= customer_mood(text) <= 0

    def test_a_problem_told_counts_half_what_the_lexicon_reads(self) -> None:
        text = "我的卡过期了，想换一张新卡。"
        assert LexiconSentiment().score(text).polarity < 0
        assert customer_mood(text) == pytest.approx(
            LexiconSentiment().score(text).polarity * DESCRIBED, abs=1e-4)

    def test_negated_cues_do_not_count(self) -> None:
        assert anger_cues("我不是要投诉，你别生气。") == []
        assert anger_cues("我要投诉，真是气死我了！") == ["要投诉", "气死"]

    def test_thanks_stay_positive(self) -> None:
        assert customer_mood("好的，太好了，谢谢！") > 0.5


class TestPromise:
    def test_a_look_up_kept(self, rules: RuleSet) -> None:
        assert hits(inspect(call(CLEAN), rules), "promise") == []

    def test_a_look_up_never_delivered(self, rules: RuleSet) -> None:
        result = inspect(call(changed(5, "这个您可以留意一下短信通知。")), rules)
        assert hits(result, "promise") == [(4, "帮您查一下")]
        assert result.score == 90

    CALLBACK = "这个需要转交后台处理，稍后会有专员给您回电。"

    def test_a_callback_never_recorded(self, rules: RuleSet) -> None:
        result = inspect(call(changed(6, self.CALLBACK, speaker=A, end=64.0)), rules)
        assert [(t, h) for t, h in hits(result, "promise")] == [(6, "稍后会有专员给您回电")]

    def test_a_callback_registered_in_the_call(self, rules: RuleSet) -> None:
        turns = changed(6, self.CALLBACK + "已经为您登记了工单，编号是A1234。", speaker=A, end=64.0)
        assert hits(inspect(call(turns), rules), "promise") == []

    def test_a_callback_kept_by_a_follow_up_record(self, rules: RuleSet) -> None:
        turns = changed(6, self.CALLBACK, speaker=A, end=64.0)
        assert hits(inspect(call(turns, follow_up="CB-1"), rules), "promise") == []

    def test_a_result_before_the_promise_does_not_keep_it(self, rules: RuleSet) -> None:
        turns = changed(5, "让您久等了，查询到是工资入账。")
        turns[7] = (A, 62.0, 70.0, "我再帮您查一下别的记录。感谢您的来电，再见。")
        assert [t for t, _ in hits(inspect(call(turns), rules), "promise")] == [7]


class TestScore:
    def test_deductions_add_up_and_stop_at_zero(self) -> None:
        rules = parse_ruleset("""
version: 3
rules:
  - {id: greet, category: greeting, check: required, scope: first_agent_turn, weight: 40,
     match: {phrases: [您好]}}
  - {id: rude, category: forbidden_phrase, check: forbidden, weight: 35, max_hits: 2,
     match: {phrases: [不归我管]}}
""")
        one = inspect(call(changed(0, "喂。")), rules)
        assert (one.score, one.rules_version) == (60, 3)
        assert inspect(call(changed(0, "喂，不归我管。")), rules).score == 25
        assert inspect(call(changed(0, "喂，不归我管，不归我管。")), rules).score == 0

    def test_hits_are_in_turn_order(self, rules: RuleSet) -> None:
        turns = changed(0, "喂。")
        turns[7] = (A, 62.0, 67.0, "这事不归我管。")
        result = inspect(call(turns), rules)
        assert [h.turn for h in result.hits] == [0, 7, 7]
        assert isinstance(result.hits[0], QaHit)
        assert result.score == 100 - 5 - 15 - 5
