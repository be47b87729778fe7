"""Verified MNIST and Fashion-MNIST: fetching, caching and loading as whole arrays."""

from mnist_digits.data.dataset import Dataset, load_dataset, normalized_tensors
from mnist_digits.data.idx import parse_idx, read_idx
from mnist_digits.data.sources import DirectorySource, MirrorSource, NpmPackageSource, SourceError
from mnist_digits.data.specs import DATASETS, DatasetSpec, FileSpec
from mnist_digits.data.store import (
    FetchReport,
    FileRecord,
    data_home,
    default_sources,
    ensure_dataset,
    get_spec,
)

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetSpec",
    "DirectorySource",
    "FetchReport",
    "FileRecord",
    "FileSpec",
    "MirrorSource",
    "NpmPackageSource",
    "SourceError",
    "data_home",
    "default_sources",
    "ensure_dataset",
    "get_spec",
    "load_dataset",
    "normalized_tensors",
    "parse_idx",
    "read_idx",
]
