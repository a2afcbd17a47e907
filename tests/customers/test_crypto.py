from __future__ import annotations

import base64

import pytest

from bankvoc.core.errors import ConfigurationError, Invalid
from bankvoc.customers.crypto import KeyRing

OLD = "k1:" + base64.b64encode(b"old-key-old-key-old-key-old-key!").decode()
NEW = "k2:" + base64.b64encode(b"new-key-new-key-new-key-new-key!").decode()


class TestEncrypt:
    def test_round_trips_and_tags_the_key_id(self) -> None:
        ring = KeyRing(OLD)
        token = ring.encrypt("13812345678", field="phone")
        assert token.startswith("k1:")
        assert "13812345678" not in token
        assert ring.decrypt(token, field="phone") == "13812345678"

    def test_same_value_encrypts_differently_each_time(self) -> None:
        ring = KeyRing(OLD)
        assert ring.encrypt("张三", field="name") != ring.encrypt("张三", field="name")

    def test_a_ciphertext_cannot_be_moved_to_another_field(self) -> None:
        ring = KeyRing(OLD)
        token = ring.encrypt("13812345678", field="phone")
        with pytest.raises(Invalid, match="id_number"):
            ring.decrypt(token, field="id_number")

    def test_tampered_ciphertext_is_detected(self) -> None:
        ring = KeyRing(OLD)
        key_id, _, body = ring.encrypt("13812345678", field="phone").partition(":")
        raw = bytearray(base64.b64decode(body))
        raw[-1] ^= 1
        with pytest.raises(Invalid):
            ring.decrypt(f"{key_id}:{base64.b64encode(bytes(raw)).decode()}", field="phone")


class TestRotation:
    def test_new_key_encrypts_and_old_ciphertexts_still_decrypt(self) -> None:
        old_token = KeyRing(OLD).encrypt("110105194912310029", field="id_number")
        rotated = KeyRing(f"{NEW},{OLD}")
        assert rotated.encrypt("x", field="name").startswith("k2:")
        assert rotated.decrypt(old_token, field="id_number") == "110105194912310029"

    def test_look_ups_search_under_every_key(self) -> None:
        old_index = KeyRing(OLD).blind_index("13812345678", field="phone")
        assert old_index in KeyRing(f"{NEW},{OLD}").blind_indexes("13812345678", field="phone")

    def test_a_ciphertext_of_an_unknown_key_is_a_configuration_error(self) -> None:
        token = KeyRing(OLD).encrypt("x", field="name")
        with pytest.raises(ConfigurationError, match="k1"):
            KeyRing(NEW).decrypt(token, field="name")


class TestBlindIndex:
    def test_is_deterministic_keyed_and_versioned(self) -> None:
        ring = KeyRing(OLD)
        index = ring.blind_index("13812345678", field="phone")
        assert index == ring.blind_index("13812345678", field="phone")
        assert index.startswith("k1:")
        assert index != KeyRing(NEW).blind_index("13812345678", field="phone")[0:]

    def test_differs_per_field(self) -> None:
        ring = KeyRing(OLD)
        assert ring.blind_index("1", field="phone") != ring.blind_index("1", field="id_number")


class TestKeyRingSpec:
    @pytest.mark.parametrize("spec", ["", "nocolon", "k1:not base64!", "k1:c2hvcnQ="])
    def test_bad_specs_are_refused_naming_the_variable(self, spec: str) -> None:
        with pytest.raises(ConfigurationError) as info:
            KeyRing(spec)
        assert info.value.field == "BANKVOC_PII_KEY"
