"""The walkthrough notebook runs top to bottom (with few epochs) and is stored without outputs."""

import os
from pathlib import Path

import pytest

import mnist_digits

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "walkthrough.ipynb"
# Small enough to run in well under a minute on 2 CPU cores, large enough that both networks
# learn (about 92% and 97% test accuracy).
FAST = "MLP_EPOCHS = 2\nCNN_EPOCHS = 1\nTRAIN_LIMIT = 10000\n"


def test_notebook_is_stored_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1


@pytest.mark.slow
def test_walkthrough_notebook_runs(mnist_home, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    (params,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    params.source = FAST
    # The kernel is a new process: give it this checkout's package even when not installed,
    # and one thread, since on a shared 2-core machine two threads wait on each other.
    src = str(Path(mnist_digits.__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 9, "every plot of the walkthrough is displayed"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "test accuracy" in text and "cnn-small" in text
