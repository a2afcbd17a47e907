from __future__ import annotations

import io
from functools import cache

import joblib
import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone, is_classifier

from bankvoc.nlp.classifier import TextClassifier, evaluate, select_model

# Three products, said in several ways, in Chinese and English: enough to learn, fast to fit.
PHRASES = {
    "credit_card": ["信用卡年费", "信用卡额度", "信用卡账单", "credit card annual fee",
                    "credit card limit"],
    "mortgage": ["房贷利率", "房贷提前还款", "按揭贷款", "mortgage rate", "mortgage repayment"],
    "mobile_banking": ["手机银行登录", "手机银行转账失败", "网银密码", "mobile app login",
                       "app transfer failed"],
}
FRAMES = ["{}有问题", "请问{}怎么办", "关于{}的投诉", "{} is wrong", "complaint about {}"]


def corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, phrases in PHRASES.items():
        for phrase in phrases:
            for frame in FRAMES:
                texts.append(frame.format(phrase))
                labels.append(label)
    return texts, labels


@cache
def fitted() -> TextClassifier:
    return TextClassifier().fit(*corpus())


class TestTextClassifierContract:
    def test_is_a_scikit_learn_classifier_that_clones_with_its_parameters(self) -> None:
        model = TextClassifier(C=2.0, char_ngrams=None)
        assert is_classifier(model)
        assert clone(model).get_params()["C"] == 2.0
        assert clone(model).get_params()["char_ngrams"] is None

    def test_learned_attributes_end_in_an_underscore(self) -> None:
        model = fitted()
        assert list(model.classes_) == ["credit_card", "mobile_banking", "mortgage"]
        assert sparse.issparse(model.coef_)
        assert model.coef_.shape[0] == 3
        assert model.temperature_ > 0


class TestFit:
    def test_needs_at_least_two_labels(self) -> None:
        with pytest.raises(ValueError, match="two labels"):
            TextClassifier().fit(["a", "b"], ["x", "x"])

    def test_needs_as_many_labels_as_texts(self) -> None:
        with pytest.raises(ValueError, match="2 texts but 1 labels"):
            TextClassifier().fit(["a", "b"], ["x"])

    def test_needs_at_least_one_feature_family(self) -> None:
        with pytest.raises(ValueError, match="cannot both be None"):
            TextClassifier(word_ngrams=None, char_ngrams=None).fit(*corpus())

    def test_tiny_data_without_folds_is_left_uncalibrated(self) -> None:
        model = TextClassifier().fit(["信用卡", "房贷"], ["credit_card", "mortgage"])
        assert model.temperature_ == 1.0


class TestPredict:
    @pytest.mark.parametrize(("text", "label"), [
        ("我的信用卡年费扣了两次", "credit_card"),
        ("房贷利率什么时候调整", "mortgage"),
        ("手机银行一直登录不上", "mobile_banking"),
        ("my mortgage rate went up", "mortgage"),
    ])
    def test_labels_new_texts_like_the_training_texts(self, text: str, label: str) -> None:
        assert fitted().predict([text])[0] == label

    def test_one_string_instead_of_a_list_is_refused(self) -> None:
        with pytest.raises(TypeError, match="list of texts"):
            fitted().predict("信用卡")


class TestPredictProba:
    def test_rows_are_probabilities_in_classes_order(self) -> None:
        model = fitted()
        texts = ["信用卡年费", "房贷", "完全无关"]
        probabilities = model.predict_proba(texts)
        assert probabilities.shape == (3, 3)
        assert np.allclose(probabilities.sum(axis=1), 1.0)
        assert list(model.classes_[probabilities.argmax(axis=1)]) == list(model.predict(texts))

    def test_a_clear_text_is_more_certain_than_an_unrelated_one(self) -> None:
        clear, unrelated = fitted().predict_proba(["信用卡年费有问题", "今天天气不错"]).max(axis=1)
        assert clear > unrelated

    def test_two_classes_give_two_columns(self) -> None:
        texts, labels = corpus()
        keep = [i for i, label in enumerate(labels) if label != "mortgage"]
        model = TextClassifier().fit([texts[i] for i in keep], [labels[i] for i in keep])
        probabilities = model.predict_proba(["手机银行登录", "信用卡额度"])
        assert probabilities.shape == (2, 2)
        assert list(model.predict(["手机银行登录", "信用卡额度"])) == [
            "mobile_banking", "credit_card"]


class TestExplain:
    def test_names_the_words_of_the_text_that_drove_the_prediction(self) -> None:
        words = [word for word, _ in fitted().explain("我的房贷利率太高了")]
        assert "房贷" in words[0] or "利率" in words[0]
        assert all(word in "我的房贷利率太高了" for word in words)

    def test_credits_are_positive_and_best_first(self) -> None:
        credits = [credit for _, credit in fitted().explain("credit card annual fee", top=3)]
        assert credits == sorted(credits, reverse=True)
        assert all(credit > 0 for credit in credits)

    def test_explains_a_label_other_than_the_prediction(self) -> None:
        words = [word for word, _ in fitted().explain("手机银行转账失败", label="mobile_banking")]
        other = [word for word, _ in fitted().explain("手机银行转账失败", label="mortgage")]
        assert "手机" in words
        assert "手机" not in other

    def test_an_unknown_label_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown label"):
            fitted().explain("信用卡", label="pension")

    def test_explain_many_is_explain_for_each_text(self) -> None:
        texts = ["信用卡年费", "mortgage rate"]
        assert fitted().explain_many(texts) == [fitted().explain(text) for text in texts]


class TestStorage:
    def test_a_joblib_round_trip_predicts_the_same(self) -> None:
        buffer = io.BytesIO()
        joblib.dump(fitted(), buffer)
        restored = joblib.load(io.BytesIO(buffer.getvalue()))
        texts = ["信用卡年费", "房贷利率", "app login"]
        assert np.array_equal(restored.predict_proba(texts), fitted().predict_proba(texts))


class TestSelectModel:
    def test_keeps_the_candidate_that_cross_validates_best(self) -> None:
        weak = {"word_ngrams": None, "char_ngrams": (1, 1), "C": 1e-4}
        strong = {"word_ngrams": (1, 2), "char_ngrams": (1, 3), "C": 1.0}
        model, scores = select_model(*corpus(), candidates=[weak, strong])
        assert scores["best"] == strong
        assert model.get_params()["char_ngrams"] == (1, 3)
        assert [c["params"] for c in scores["candidates"]] == [weak, strong]
        assert scores["cv"] == 3
        assert scores["cv_macro_f1"] == max(c["macro_f1"] for c in scores["candidates"])

    def test_the_chosen_model_is_refit_calibrated_on_all_data(self) -> None:
        model, _ = select_model(*corpus(), candidates=[{"C": 1.0}])
        assert model.get_params()["calibration_folds"] == 3
        assert model.predict(["房贷利率"])[0] == "mortgage"

    def test_without_folds_the_first_candidate_is_fitted_unscored(self) -> None:
        model, scores = select_model(*corpus(), cv=0, candidates=[{"C": 0.5}, {"C": 2.0}])
        assert (scores["cv"], scores["best"], scores["candidates"]) == (0, {"C": 0.5}, [])
        assert model.get_params()["C"] == 0.5

    def test_an_unknown_parameter_fails_before_any_work(self) -> None:
        with pytest.raises(TypeError):
            select_model(*corpus(), candidates=[{"kernel": "rbf"}])


class TestEvaluate:
    def test_reports_overall_per_class_and_confusion_scores(self) -> None:
        texts = ["信用卡年费", "房贷利率", "手机银行登录", "养老金"]
        labels = ["credit_card", "mortgage", "mobile_banking", "pension"]
        report = evaluate(fitted(), texts, labels)
        assert report["rows"] == 4
        assert report["accuracy"] == 0.75
        assert report["unknown_labels"] == ["pension"]
        assert report["docs_per_s"] > 0
        assert report["per_class"]["pension"] == {
            "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
        assert report["per_class"]["credit_card"]["recall"] == 1.0
        assert report["confusion"]["labels"] == sorted(labels)
        assert np.asarray(report["confusion"]["matrix"]).shape == (4, 4)
