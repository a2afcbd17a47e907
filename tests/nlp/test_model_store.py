from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cache

import numpy as np
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound
from bankvoc.nlp import model_store
from bankvoc.nlp.classifier import TextClassifier
from bankvoc.nlp.models import ModelVersion
from bankvoc.nlp.sentiment import TrainedSentiment
from bankvoc.nlp.similarity import DuplicateMatcher
from tests.conftest import World

TEXTS = ["信用卡年费扣多了", "信用卡额度太低", "房贷利率太高", "房贷提前还款", "credit card fee",
         "mortgage rate"]
LABELS = ["credit_card", "credit_card", "mortgage", "mortgage", "credit_card", "mortgage"]


@cache
def model(c: float = 1.0) -> TextClassifier:
    return TextClassifier(C=c).fit(TEXTS, LABELS)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    model_store.clear_cache()
    yield
    model_store.clear_cache()


def save(world: World, *, name: str = "products", user: str = "hq_analyst",
         field: str | None = None, c: float = 1.0) -> ModelVersion:
    return model_store.save_version(world.session, actor=world.actor(user), name=name,
                                    estimator=model(c), texts=TEXTS, labels=LABELS, field=field,
                                    metrics={"cv_macro_f1": 0.9, "best": {"C": c}})


class TestTrainingHash:
    def test_row_order_white_space_and_width_do_not_change_it(self) -> None:
        reversed_pairs = list(zip(TEXTS, LABELS, strict=True))[::-1]
        assert model_store.training_hash(TEXTS, LABELS) == model_store.training_hash(
            [f"  {text} " for text, _ in reversed_pairs], [label for _, label in reversed_pairs])
        assert model_store.training_hash(["ＩＣ卡  挂失"], ["a"]) == model_store.training_hash(
            ["IC卡 挂失"], ["a"])

    def test_a_changed_label_changes_it(self) -> None:
        assert model_store.training_hash(TEXTS, LABELS) != model_store.training_hash(
            TEXTS, [*LABELS[:-1], "credit_card"])


class TestSaveVersion:
    def test_numbers_versions_per_name_from_one(self, world: World) -> None:
        assert [save(world).version, save(world).version, save(world, name="other").version] == [
            1, 2, 1]

    def test_keeps_labels_metrics_data_hash_rows_and_author(self, world: World) -> None:
        row = save(world, field="product")
        user = world.actor("hq_analyst")
        assert (row.labels, row.metrics["best"], row.row_count, row.field, row.created_by) == (
            ["credit_card", "mortgage"], {"C": 1.0}, 6, "product", user.user_id)
        assert row.data_hash == model_store.training_hash(TEXTS, LABELS)
        assert row.created_at is not None

    def test_stores_the_estimator_bytes_with_their_checksum(self, world: World) -> None:
        row = save(world)
        assert row.estimator_size == len(row.estimator) > 0
        assert row.estimator_sha256 == hashlib.sha256(row.estimator).hexdigest()

    @pytest.mark.parametrize("user", ["bj_handler", "bj1_agent"])
    def test_roles_without_model_management_are_refused(self, world: World, user: str) -> None:
        with pytest.raises(Forbidden, match=r"model\.manage"):
            save(world, user=user)

    @pytest.mark.parametrize("name", ["", "a@2", "with space", "x" * 101])
    def test_a_bad_name_is_refused(self, world: World, name: str) -> None:
        with pytest.raises(Invalid) as info:
            save(world, name=name)
        assert info.value.field == "name"


class TestLoad:
    def test_gives_back_an_estimator_that_predicts_the_same(self, world: World) -> None:
        save(world)
        loaded = model_store.load(world.session, name="products", version=1)
        assert isinstance(loaded, TextClassifier)
        assert np.array_equal(loaded.predict_proba(TEXTS), model().predict_proba(TEXTS))

    def test_without_a_version_loads_the_latest(self, world: World) -> None:
        save(world, c=1.0)
        save(world, c=0.5)
        assert model_store.load(world.session, name="products").get_params()["C"] == 0.5

    def test_refuses_bytes_that_do_not_match_their_checksum(self, world: World) -> None:
        row = save(world)
        tampered = row.estimator[:-1] + bytes([row.estimator[-1] ^ 1])
        world.session.execute(update(ModelVersion).where(ModelVersion.id == row.id)
                              .values(estimator=tampered))
        world.session.expire_all()
        with pytest.raises(model_store.ModelChecksumError, match="checksum"):
            model_store.load(world.session, name="products", version=1)

    def test_an_unknown_model_or_version_is_not_found(self, world: World) -> None:
        save(world)
        with pytest.raises(NotFound, match="products@7"):
            model_store.load(world.session, name="products", version=7)
        with pytest.raises(NotFound, match="nothing"):
            model_store.load(world.session, name="nothing")


class TestSplitRef:
    @pytest.mark.parametrize(("ref", "parts"), [("m@3", ("m", 3)), ("m", ("m", None))])
    def test_splits_name_and_version(self, ref: str, parts: tuple[str, int | None]) -> None:
        assert model_store.split_ref(ref) == parts

    @pytest.mark.parametrize("ref", ["m@", "m@x", "m@0"])
    def test_a_version_must_be_a_positive_number(self, ref: str) -> None:
        with pytest.raises(Invalid):
            model_store.split_ref(ref)


class TestListVersions:
    def test_lists_newest_first_with_author_and_active_fields(self, world: World) -> None:
        save(world)
        save(world)
        model_store.activate(world.session, actor=world.actor("hq_admin"), name="products",
                             version=1, field="product")
        listed = model_store.list_versions(world.session)
        assert [(v.ref, v.active_for, v.created_by) for v in listed] == [
            ("products@2", [], "hq_analyst"), ("products@1", ["product"], "hq_analyst")]

    def test_can_be_limited_to_one_model(self, world: World) -> None:
        save(world)
        save(world, name="categories")
        assert [v.ref for v in model_store.list_versions(world.session, name="categories")] == [
            "categories@1"]


class TestActivate:
    def test_makes_a_version_the_one_active_for_a_field(self, world: World) -> None:
        save(world)
        save(world)
        admin = world.actor("hq_admin")
        model_store.activate(world.session, actor=admin, name="products", version=1,
                             field="product")
        model_store.activate(world.session, actor=admin, name="products", version=2,
                             field="product")
        active = model_store.active_version(world.session, field="product")
        assert active is not None
        assert active.version == 2
        assert [a.active for a in model_store.history(world.session, field="product")] == [
            False, True]

    def test_fields_have_their_own_active_versions(self, world: World) -> None:
        save(world)
        save(world)
        admin = world.actor("hq_admin")
        model_store.activate(world.session, actor=admin, name="products", version=1,
                             field="product")
        model_store.activate(world.session, actor=admin, name="products", version=2,
                             field="category")
        versions = [model_store.active_version(world.session, field=f) for f in
                    ("product", "category")]
        assert [v.version for v in versions if v is not None] == [1, 2]

    def test_activating_the_active_version_again_changes_nothing(self, world: World) -> None:
        save(world)
        admin = world.actor("hq_admin")
        first = model_store.activate(world.session, actor=admin, name="products", version=1,
                                     field="product")
        again = model_store.activate(world.session, actor=admin, name="products", version=1,
                                     field="product")
        assert again.id == first.id

    def test_a_model_trained_for_another_field_is_refused(self, world: World) -> None:
        save(world, field="category")
        with pytest.raises(Invalid, match="trained for field 'category'"):
            model_store.activate(world.session, actor=world.actor("hq_admin"), name="products",
                                 version=1, field="product")

    def test_a_handler_may_not_activate(self, world: World) -> None:
        save(world)
        with pytest.raises(Forbidden):
            model_store.activate(world.session, actor=world.actor("bj_handler"),
                                 name="products", version=1, field="product")


class TestRollback:
    def _activate_versions(self, world: World, count: int) -> None:
        for version in range(1, count + 1):
            save(world)
            model_store.activate(world.session, actor=world.actor("hq_admin"), name="products",
                                 version=version, field="product")

    def _active(self, world: World) -> int | None:
        row = model_store.active_version(world.session, field="product")
        return None if row is None else row.version

    def test_goes_back_to_the_version_the_active_one_replaced(self, world: World) -> None:
        self._activate_versions(world, 2)
        done = model_store.rollback(world.session, actor=world.actor("hq_analyst"),
                                    field="product")
        assert (done.action, self._active(world)) == ("rollback", 1)

    def test_a_second_rollback_goes_further_back(self, world: World) -> None:
        self._activate_versions(world, 3)
        actor = world.actor("hq_admin")
        model_store.rollback(world.session, actor=actor, field="product")
        model_store.rollback(world.session, actor=actor, field="product")
        assert self._active(world) == 1
        with pytest.raises(Conflict, match="nothing to roll back to"):
            model_store.rollback(world.session, actor=actor, field="product")

    def test_history_keeps_every_activation(self, world: World) -> None:
        self._activate_versions(world, 2)
        model_store.rollback(world.session, actor=world.actor("hq_admin"), field="product")
        history = model_store.history(world.session, field="product")
        assert [(a.action, a.active) for a in history] == [
            ("activate", False), ("activate", False), ("rollback", True)]

    def test_a_field_without_an_active_model_has_nothing_to_roll_back(
        self, world: World
    ) -> None:
        with pytest.raises(NotFound, match="no model is active"):
            model_store.rollback(world.session, actor=world.actor("hq_admin"), field="product")

    def test_a_handler_may_not_roll_back(self, world: World) -> None:
        self._activate_versions(world, 2)
        with pytest.raises(Forbidden):
            model_store.rollback(world.session, actor=world.actor("bj_handler"),
                                 field="product")


class TestActiveFor:
    def test_nothing_active_gives_none(self, session: Session) -> None:
        assert model_store.active_for(session, field="product") is None

    def test_gives_the_active_estimator_loaded_once(self, world: World) -> None:
        save(world)
        model_store.activate(world.session, actor=world.actor("hq_admin"), name="products",
                             version=1, field="product")
        first = model_store.active_for(world.session, field="product")
        assert isinstance(first, TextClassifier)
        assert model_store.active_for(world.session, field="product") is first
        assert first.predict(["房贷利率"])[0] == "mortgage"

    def test_follows_a_new_activation(self, world: World) -> None:
        save(world, c=1.0)
        save(world, c=0.5)
        admin = world.actor("hq_admin")
        for version in (1, 2):
            model_store.activate(world.session, actor=admin, name="products", version=version,
                                 field="product")
        active = model_store.active_for(world.session, field="product")
        assert active is not None
        assert active.get_params()["C"] == 0.5


MOODS = ["服务很好", "非常满意", "态度很好", "太差了", "非常失望", "态度恶劣"]
FEELINGS = ["positive", "positive", "positive", "negative", "negative", "negative"]


class TestKinds:
    """Besides classifiers the store keeps trained sentiment scorers and duplicate matchers,
    and each kind serves only the fields it fits."""

    def _sentiment(self, world: World, field: str | None = None) -> ModelVersion:
        scorer = TrainedSentiment(min_df=1).fit(MOODS, FEELINGS)
        return model_store.save_version(world.session, actor=world.actor("hq_admin"),
                                        name="moods", estimator=scorer, texts=MOODS,
                                        labels=FEELINGS, field=field)

    def _matcher(self, world: World) -> ModelVersion:
        matcher = DuplicateMatcher().fit(TEXTS)
        return model_store.save_version(world.session, actor=world.actor("hq_admin"),
                                        name="pairs", estimator=matcher, texts=TEXTS,
                                        labels=["1", "0"] * 3)

    def test_a_version_records_its_kind(self, world: World) -> None:
        assert save(world).kind == "classifier"
        assert self._sentiment(world).kind == "sentiment"
        assert self._matcher(world).kind == "pairs"

    def test_a_matcher_without_classes_keeps_the_labels_it_learned_from(
            self, world: World) -> None:
        assert self._matcher(world).labels == ["0", "1"]

    def test_a_sentiment_model_is_activated_for_sentiment_and_loads_as_a_scorer(
            self, world: World) -> None:
        self._sentiment(world)
        model_store.activate(world.session, actor=world.actor("hq_admin"), name="moods",
                             version=1, field="sentiment")
        scorer = model_store.active_for(world.session, field="sentiment")
        assert isinstance(scorer, TrainedSentiment)
        assert scorer.score("非常满意").polarity > 0

    @pytest.mark.parametrize("field", ["product", "duplicates"])
    def test_a_sentiment_model_cannot_serve_another_field(self, world: World, field: str) -> None:
        self._sentiment(world)
        with pytest.raises(Invalid, match="needs a") as refused:
            model_store.activate(world.session, actor=world.actor("hq_admin"), name="moods",
                                 version=1, field=field)
        assert refused.value.field == "field"

    def test_a_classifier_cannot_be_the_sentiment_model(self, world: World) -> None:
        save(world)
        with pytest.raises(Invalid, match="needs a sentiment model"):
            model_store.activate(world.session, actor=world.actor("hq_admin"), name="products",
                                 version=1, field="sentiment")

    def test_a_kind_is_checked_when_a_field_is_named_at_saving(self, world: World) -> None:
        with pytest.raises(Invalid, match="cannot serve field 'product'"):
            self._sentiment(world, field="product")

    def test_every_active_model_comes_with_its_reference(self, world: World) -> None:
        save(world)
        self._matcher(world)
        admin = world.actor("hq_admin")
        model_store.activate(world.session, actor=admin, name="products", version=1,
                             field="category")
        model_store.activate(world.session, actor=admin, name="pairs", version=1,
                             field="duplicates")
        active = model_store.active_with_refs(world.session)
        assert {field: ref for field, (ref, _) in active.items()} == {
            "category": "products@1", "duplicates": "pairs@1"}
        assert isinstance(active["duplicates"][1], DuplicateMatcher)
