"""Typed configs: every packaged config converts to its dataclass and back to the identical
mapping, every key is documented, a misspelt key is an error where it is written, and
`rlmaml config NAME` explains every key."""

import dataclasses
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from rlmaml.cli import main
from rlmaml.errors import UserError
from rlmaml.runs.config import load_config, packaged_configs, resolve, typed_config
from rlmaml.runs.config_schema import schema_of
from rlmaml.runs.config_types import ClassificationConfig, RLConfig, SinusoidConfig

REPO = Path(__file__).resolve().parents[2]
MODES = (RLConfig, SinusoidConfig, ClassificationConfig)


@pytest.mark.parametrize("name", packaged_configs())
def test_every_packaged_config_converts_to_its_dataclass_and_back(name):
    mapping = load_config(name)
    config = typed_config(mapping)
    expected = {"sinusoid": SinusoidConfig, "classification": ClassificationConfig}.get(mapping.get("mode"), RLConfig)
    assert type(config) is expected
    back = config.to_mapping()
    assert back == mapping
    assert list(back) == list(mapping)
    assert yaml.safe_dump(back, sort_keys=False) == yaml.safe_dump(mapping, sort_keys=False)  # the same config.yaml


def test_saved_run_configs_read_back_in_their_order():
    """config.yaml of runs written before the dataclasses: the same keys in the same order
    (a key added since, with its default, is the only difference)."""
    saved = [path for path in sorted((REPO / "zoo").glob("*/config.yaml"))]
    for path in saved:
        data = yaml.safe_load(path.read_text())
        resolved = resolve(data, ())
        assert [key for key in resolved if key in data] == list(data), path
        assert {key: resolved[key] for key in data} == data, path


def test_typed_values_are_checked_and_frozen():
    config = typed_config(load_config("navigation2d"))
    assert config.hidden_sizes == (64, 64)
    assert config.to_mapping()["hidden_sizes"] == [64, 64]
    assert config.fast_lr == 0.1
    assert config.normalize_actions is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.fast_lr = 0.2  # type: ignore[misc]
    with pytest.raises(UserError, match="config key 'fast_lr' must be at least 0, got -1"):
        dataclasses.replace(config, fast_lr=-1)
    assert dataclasses.replace(config, hidden_sizes=(8,)).to_mapping()["hidden_sizes"] == [8]


def test_a_misspelt_key_is_an_attribute_error():
    config = typed_config(load_config("sinusoid"))
    with pytest.raises(AttributeError, match="fast_lrr"):
        config.fast_lrr  # type: ignore[attr-defined]  # noqa: B018


def test_a_misspelt_key_is_a_type_checker_error(tmp_path):
    """mypy --strict on code using a config: the misspelt key is its one error (the config
    modules themselves pass --strict)."""
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "uses_config.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from rlmaml.runs.config_types import RLConfig

            def step_size(config: RLConfig) -> float:
                return config.fast_lr

            def misspelt(config: RLConfig) -> None:
                print(config.fast_lrr)
            """
        )
    )
    modules = [str(REPO / "rlmaml" / name) for name in ("errors.py", "runs/config_schema.py", "runs/config_types.py")]
    flags = ["--strict", "--follow-imports=skip", "--cache-dir=/dev/null", "--no-error-summary"]
    out, _, status = api.run([*flags, str(snippet), *modules])
    assert status == 1
    assert out.splitlines() == [
        f'{snippet}:8: error: "RLConfig" has no attribute "fast_lrr"; maybe "fast_lr"?  [attr-defined]'
    ]


@pytest.mark.parametrize("mode", MODES)
def test_every_key_has_a_one_line_doc_under_a_documented_group(mode):
    schema = schema_of(mode)
    for key in schema.values():
        assert key.doc, key.name
        assert "\n" not in key.doc, key.name
        assert len(key.doc) <= 100, key.name
    groups = [klass for klass in mode.__mro__ if dataclasses.is_dataclass(klass)]
    # a class without a docstring would get dataclasses' own, "Name(field: type, ...)"
    assert all(klass.__doc__ and not klass.__doc__.startswith(klass.__name__ + "(") for klass in groups)
    assert {key.group for key in schema.values()} <= {klass.__doc__.splitlines()[0] for klass in groups}


@pytest.mark.parametrize("name", ["navigation2d", "omniglot-5w1s"])
def test_config_command_explains_every_key(capsys, name):
    assert main(["config", name, "--set", "seed=7"]) == 0
    out = capsys.readouterr().out
    config = load_config(name, ["seed=7"])
    shown = [match[1] for match in re.finditer(r"^  (\w+) = ", out, re.MULTILINE)]
    assert shown == list(config)
    assert "  seed = 7\n" in out
    assert "an integer, from 0 to 4294967295; required" in out
    for key in schema_of(type(typed_config(config))).values():
        assert key.doc.split()[0] in out
        assert key.group in out


def test_config_command_refuses_a_bad_key_in_one_line(capsys):
    assert main(["config", "sinusoid", "--set", "fast_lrr=1"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'fast_lrr'" in err
    assert len(err.strip().splitlines()) == 1


def test_train_help_points_to_the_config_command(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "rlmaml config NAME" in capsys.readouterr().out
