"""Loaders for DCASE Task 2 / MIMII recordings and the synthetic machine sounds."""

from ._audio import AudioReader, AudioReadError, ClipFiles, read_audio
from ._dcase import (
    attribute_labels,
    class_labels,
    concat_datasets,
    load_dcase,
    parse_attributes,
    parse_filename,
    with_outliers,
)
from ._synthetic import ANOMALY_KINDS, make_machine_sounds, save_machine_sounds

__all__ = [
    "ANOMALY_KINDS",
    "AudioReadError",
    "AudioReader",
    "ClipFiles",
    "attribute_labels",
    "class_labels",
    "concat_datasets",
    "load_dcase",
    "make_machine_sounds",
    "parse_attributes",
    "parse_filename",
    "read_audio",
    "save_machine_sounds",
    "with_outliers",
]
