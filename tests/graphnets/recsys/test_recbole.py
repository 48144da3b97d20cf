"""RecBole ``.inter`` reader: what RecBole means by the format, and errors whose advice works."""

import pytest

from graphnets.recsys.recbole import load_recbole, read_inter

HEADER = "user_id:token\titem_id:token\trating:float\n"


def _write(folder, train: str, test: str, name: str = "ml"):
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.train.inter").write_text(HEADER + train)
    (folder / f"{name}.test.inter").write_text(HEADER + test)
    return folder


def test_cold_test_user_error_names_the_token_and_its_advice_works(tmp_path):
    # issue 19, case 4: 'u9' is in .test.inter only; the error must name the file's token (not an
    # internal id) and its advice (cold_users='drop') must be accepted and do what it says
    folder = _write(tmp_path / "ml", "u1\ta\t5\nu2\tb\t4\n", "u1\tb\t1\nu9\ta\t2\nu9\tc\t3\n")
    with pytest.raises(ValueError) as err:
        load_recbole(folder)
    msg = str(err.value)
    assert "user 'u9'" in msg and "ml.test.inter:3" in msg and "(got 1 such users)" in msg
    assert "cold_users='drop'" in msg
    d = load_recbole(folder, cold_users="drop")
    assert d.num_test == 1 and [d.user_tokens[u] for u in d.test_users.tolist()] == ["u1"]
    assert [d.item_tokens[i] for i in d.test_items.tolist()] == ["b"]
    assert d.num_users == 3 and d.user_tokens == ["u1", "u2", "u9"]  # the cold user keeps an id, with no rows
    with pytest.raises(ValueError, match="cold_users must be 'error' or 'drop'"):
        load_recbole(folder, cold_users="keep")


def test_duplicate_advice_works(tmp_path):
    folder = _write(tmp_path / "ml", "u1\ta\t5\nu1\ta\t3\n", "u1\tb\t1\n")
    with pytest.raises(ValueError, match="pass drop_duplicates=True"):
        load_recbole(folder)
    assert load_recbole(folder, drop_duplicates=True).num_train == 1


def test_tokens_are_exact_strings_as_recbole_reads_them(tmp_path):
    # RecBole reads tokens with pandas dtype=str: '07' != '7' and 'u1 ' != 'u1'
    folder = _write(tmp_path / "ml", "7\ta\t1\n07\ta\t1\nu1 \tb\t1\nu1\tb\t1\n", "7\tb\t1\n")
    d = load_recbole(folder)
    assert d.user_tokens == ["7", "07", "u1 ", "u1"] and d.num_train == 4
    (folder / "ml.train.inter").write_text("\ufeff" + HEADER + "7\ta\t1\r\n")  # BOM and CRLF
    assert read_inter(folder / "ml.train.inter") == (["7"], ["a"])
    (folder / "ml.train.inter").write_bytes(HEADER.encode() + b"7\ta\xff\t1\n")
    with pytest.raises(ValueError, match=r"ml.train.inter:2: not UTF-8 text \(got byte 0xff\)"):
        read_inter(folder / "ml.train.inter")


def test_valid_file_is_not_silently_ignored(tmp_path):
    folder = _write(tmp_path / "ml", "u1\ta\t5\n", "u1\tb\t1\n")
    (folder / "ml.valid.inter").write_text(HEADER + "u1\tc\t1\n")
    with pytest.warns(UserWarning, match="ml.valid.inter is not read"):
        d = load_recbole(folder)
    assert d.item_tokens == ["a", "b"]


def test_load_dataset_accepts_the_advice_of_both_readers(tmp_path):
    from graphnets.recsys import load_dataset

    _write(tmp_path / "ml", "u1\ta\t5\nu1\ta\t5\n", "u1\tb\t1\nu9\ta\t2\n")
    with pytest.raises(ValueError, match="pass drop_duplicates=True"):
        load_dataset("ml", tmp_path, cold_users="drop")
    with pytest.raises(ValueError, match="pass cold_users='drop'"):
        load_dataset("ml", tmp_path, drop_duplicates=True)
    d = load_dataset("ml", tmp_path, cold_users="drop", drop_duplicates=True)
    assert (d.num_train, d.num_test) == (1, 1)
    lg = tmp_path / "lg"
    lg.mkdir()
    (lg / "train.txt").write_text("0 1\n1\n")
    (lg / "test.txt").write_text("0 2\n1 0\n")
    with pytest.raises(ValueError, match="pass cold_users='drop'"):
        load_dataset("lg", tmp_path)
    assert load_dataset("lg", tmp_path, cold_users="drop").num_test == 1
