"""Model ids are true: the embedded model records the GGUF file it loads, and its vendor."""

import pytest

from shipwith.panel.llm import LLMError, model_for
from shipwith.panel.llm.embedded import DEFAULT_FILE, gguf_path


def test_local_records_the_gguf_file_it_loads():
    model = model_for("local")
    assert model.model_id == DEFAULT_FILE == gguf_path().name
    assert model.vendor == "hugging-face"  # SmolLM2, derived from the file


def test_local_with_a_path_loads_that_file_and_judges_its_vendor(tmp_path):
    copy = tmp_path / "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"
    copy.symlink_to(gguf_path())  # any GGUF file: its name is what recusal reads
    model = model_for(f"local:{copy}")
    assert model.path == copy and model.model_id == copy.name
    assert model.vendor == "alibaba-cloud"


@pytest.mark.parametrize("name", ["qwen2.5:7b", "/nonexistent/model.gguf"])
def test_local_with_anything_else_is_refused_with_the_reason(name):
    with pytest.raises(LLMError, match="is not a GGUF file"):
        model_for(f"local:{name}")


def test_local_outside_the_models_folder_is_refused_in_the_admin_too(tmp_path, settings):
    from django.core.exceptions import ValidationError

    from shipwith.panel.llm.registry import model_spec_validate

    settings.SHIPWITH_LOCAL_MODELS_DIR = tmp_path / "models"
    stray = tmp_path / "stray.gguf"
    stray.write_bytes(b"GGUF")
    with pytest.raises(ValidationError, match="not one of the installed models"):
        model_spec_validate(f"local:{stray}")
    with pytest.raises(ValidationError, match="not one of the installed models"):
        model_spec_validate("local:../stray.gguf")
