"""Library errors name the setting at fault; the CLI says it as its flag, the library in words."""

import pytest

from rlmaml.cli.options import FLAGS, flag
from rlmaml.errors import Setting, UserError
from rlmaml.runs.trainer import check_new_run_dir


def test_every_setting_an_error_can_name_has_a_flag():
    assert set(FLAGS) == set(Setting)


def test_an_error_names_its_settings_in_words_and_the_cli_by_their_flags(tmp_path):
    (tmp_path / "progress.csv").write_text("iteration\n")
    with pytest.raises(UserError) as raised:
        check_new_run_dir(tmp_path)
    assert str(raised.value) == f"{tmp_path} already holds a run: pass resume to continue it, or another run directory"
    assert (
        raised.value.worded(flag) == f"{tmp_path} already holds a run: pass --resume to continue it, or another --out"
    )


def test_a_plain_message_reads_the_same_everywhere():
    error = UserError("no checkpoint in runs/x/checkpoints: the run saved none yet")
    assert error.worded(flag) == str(error) == "no checkpoint in runs/x/checkpoints: the run saved none yet"
