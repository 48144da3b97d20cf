"""LightGCN/UltraGCN text format: only ASCII decimal ids below 2**63 are ids."""

import pytest

from graphnets.recsys import read_user_item_lines


@pytest.mark.parametrize(
    "token", ["+3", "1_0", "\u00b2", "\u0663", "9223372036854775808", "99999999999999999999", "1e3", "0x1", "3\x0c4"]
)
def test_tokens_int_would_take_or_choke_on(tmp_path, token):
    f = tmp_path / "train.txt"
    f.write_bytes(f"0 1\n0 {token}\n".encode())
    with pytest.raises(ValueError, match=r"train.txt:2: expected integer ids"):
        read_user_item_lines(f)


def test_largest_id_tabs_crlf_and_invalid_utf8(tmp_path):
    f = tmp_path / "train.txt"
    f.write_bytes(b"9223372036854775807\t5  6\r\n\r\n1\n")
    users, items = read_user_item_lines(f)
    assert users.tolist() == [2**63 - 1] * 2 and items.tolist() == [5, 6]
    f.write_bytes(b"0 1\xff\n")
    with pytest.raises(ValueError, match=r"train.txt:1: expected integer ids .*got token '1\ufffd'"):
        read_user_item_lines(f)
