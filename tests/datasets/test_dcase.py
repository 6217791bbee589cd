import shutil
import warnings

import numpy as np
import pytest
import soundfile as sf

from sklearn_asd.datasets import AudioReadError, load_dcase, parse_filename, read_audio

SR = 16000


def write_wav(path, n=1600, sr=SR, channels=1, seed=0, value=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    data = rng.uniform(-0.5, 0.5, (n, channels)) if value is None else np.full((n, channels), value)
    sf.write(path, data, sr, subtype="PCM_16")
    return path


def make_tree(root, names):
    for i, name in enumerate(names):
        write_wav(root / name, seed=i)
    return root


@pytest.mark.parametrize(
    "name, section, domain, anomaly, attributes, split",
    [
        ("normal_id_00_00000000.wav", "id_00", "source", 0, {}, None),
        ("anomaly_id_04_00000123.wav", "id_04", "source", 1, {}, None),
        ("id_05_00000000.wav", "id_05", "source", -1, {}, None),
        (
            "section_00_source_train_normal_0000_A1Spd28VMic1.wav",
            "section_00",
            "source",
            0,
            {"attribute": "A1Spd28VMic1"},
            "train",
        ),
        ("section_02_target_test_anomaly_0007.wav", "section_02", "target", 1, {}, "test"),
        ("section_03_source_test_0000.wav", "section_03", "source", -1, {}, "test"),
        ("section_00_target_test_normal_0018_pat_02.wav", "section_00", "target", 0, {"pat": "02"}, "test"),
        (
            "section_00_source_train_normal_0362_car_C2_spd_34V_mic_1.wav",
            "section_00",
            "source",
            0,
            {"car": "C2", "spd": "34V", "mic": "1"},
            "train",
        ),
        ("section_00_source_test_anomaly_0022_m-n_W.wav", "section_00", "source", 1, {"m-n": "W"}, "test"),
        ("section_00_source_train_normal_0001_noAttribute.wav", "section_00", "source", 0, {}, "train"),
        ("section_00_0000.wav", "section_00", "unknown", -1, {}, None),
        ("valve_id06_abn_00000008.wav", "id_06", "source", 1, {}, None),
        ("valve_id00_n_00000117.wav", "id_00", "source", 0, {}, None),
    ],
)
def test_parse_filename(name, section, domain, anomaly, attributes, split):
    record = parse_filename(name)
    assert record == {
        "section": section,
        "domain": domain,
        "anomaly": anomaly,
        "attributes": attributes,
        "split": split,
    }


def test_parse_filename_unknown_scheme():
    assert parse_filename("recording_42.wav") is None


def test_dcase2020_dev_and_eval_layout(tmp_path):
    dev = tmp_path / "dev_data"
    make_tree(
        dev / "fan",
        [
            "train/normal_id_00_00000000.wav",
            "train/normal_id_02_00000001.wav",
            "test/normal_id_00_00000000.wav",
            "test/anomaly_id_00_00000000.wav",
        ],
    )
    train = load_dcase(dev, "fan", "train")
    assert list(train.y) == ["id_00", "id_02"]
    assert list(train.domain) == ["source", "source"]
    test = load_dcase(dev, "fan", "test")
    assert sorted(test.anomaly.tolist()) == [0, 1]
    assert set(test.split) == {"test"}

    ev = tmp_path / "eval_data"
    make_tree(ev / "fan", ["test/id_05_00000000.wav", "test/id_05_00000001.wav"])
    gt = tmp_path / "eval_data_list.csv"
    gt.write_text("ToyCar\nid_05_00000000.wav,1\nfan\nid_05_00000000.wav,0\nid_05_00000001.wav,1\n")
    unlabelled = load_dcase(ev, "fan", "test")
    assert unlabelled.anomaly.tolist() == [-1, -1]
    labelled = load_dcase(ev, "fan", "test", ground_truth=gt)
    assert labelled.anomaly.tolist() == [0, 1]  # the ToyCar line does not leak into fan


def test_dcase2021_layout_with_source_and_target_test(tmp_path):
    root = make_tree(
        tmp_path / "dev_data" / "gearbox",
        [
            "train/section_00_source_train_normal_0000_volt_1.0.wav",
            "train/section_01_target_train_normal_0000_volt_2.0.wav",
            "source_test/section_00_source_test_normal_0000.wav",
            "source_test/section_00_source_test_anomaly_0000.wav",
            "target_test/section_00_target_test_normal_0000.wav",
            "target_test/section_00_target_test_anomaly_0000.wav",
        ],
    ).parent
    test = load_dcase(root, "gearbox", "test")
    assert test.X.shape == (4, 1600)
    assert sorted(test.domain) == ["source", "source", "target", "target"]
    assert test.anomaly.sum() == 2
    train = load_dcase(root, "gearbox", "train")
    assert list(train.attributes) == [{"volt": "1.0"}, {"volt": "2.0"}]
    everything = load_dcase(root, "gearbox", "all")
    assert sorted(everything.split) == ["test"] * 4 + ["train"] * 2
    # the machine folder itself works as root
    assert len(load_dcase(root / "gearbox", "gearbox", "test").X) == 4


def test_dcase2022_attribute_csv(tmp_path):
    machine = make_tree(
        tmp_path / "bearing",
        [
            "train/section_00_source_train_normal_0000_vel_6_loc_A.wav",
            "test/section_00_source_test_normal_0000.wav",
        ],
    )
    (machine / "attributes_00.csv").write_text(
        "file_name,d1p,d1v,d2p,d2v\n"
        "bearing/train/section_00_source_train_normal_0000_vel_6_loc_A.wav,vel,6,loc,A\n"
        "bearing/test/section_00_source_test_normal_0000.wav,vel,10,loc,B\n"
    )
    test = load_dcase(tmp_path, "bearing", "test")
    assert test.attributes[0] == {"vel": "10", "loc": "B"}


def test_dcase2023_eval_with_official_ground_truth(tmp_path):
    make_tree(tmp_path / "eval" / "bandsaw", ["test/section_00_0000.wav", "test/section_00_0001.wav"])
    gt = tmp_path / "evaluator"
    for folder, rows in {
        "ground_truth_data": "section_00_0000.wav,1\nsection_00_0001.wav,0\n",
        "ground_truth_domain": "section_00_0000.wav,1\nsection_00_0001.wav,0\n",
        "ground_truth_attributes": "section_00_0000.wav,section_00_target_test_anomaly_0000_vel_12\n"
        "section_00_0001.wav,section_00_source_test_normal_0001_vel_15\n",
    }.items():
        (gt / folder).mkdir(parents=True)
        (gt / folder / "ground_truth_bandsaw_section_00_test.csv").write_text(rows)
    blind = load_dcase(tmp_path / "eval", "bandsaw", "test")
    assert blind.domain.tolist() == ["unknown", "unknown"]
    assert blind.anomaly.tolist() == [-1, -1]
    data = load_dcase(tmp_path / "eval", "bandsaw", "test", ground_truth=gt)
    assert data.anomaly.tolist() == [1, 0]
    assert data.domain.tolist() == ["target", "source"]
    assert data.attributes.tolist() == [{"vel": "12"}, {"vel": "15"}]


def test_dcase2024_numbering_and_no_attribute(tmp_path):
    make_tree(
        tmp_path / "3DPrinter",
        [
            "train/section_00_source_train_normal_0001_noAttribute.wav",
            "train/section_00_target_train_normal_0001_noAttribute.wav",
        ],
    )
    train = load_dcase(tmp_path, "3DPrinter", "train")
    assert train.attributes.tolist() == [{}, {}]
    assert train.domain.tolist() == ["source", "target"]


def test_mimii_raw_layout_and_split(tmp_path):
    make_tree(
        tmp_path / "pump",
        ["id_00/normal/00000000.wav", "id_00/abnormal/00000000.wav", "id_02/normal/00000000.wav"],
    )
    data = load_dcase(tmp_path, "pump", "all")
    assert data.section.tolist() == ["id_00", "id_00", "id_02"]
    assert data.anomaly.tolist() == [1, 0, 0]
    with pytest.raises(ValueError, match="no train/test split.*split='all'"):
        load_dcase(tmp_path, "pump", "train")


def test_unequal_lengths_ask_for_duration(tmp_path):
    write_wav(tmp_path / "m" / "train" / "section_00_source_train_normal_0000.wav", n=1600)
    write_wav(tmp_path / "m" / "train" / "section_00_source_train_normal_0001.wav", n=1920)
    with pytest.raises(ValueError, match="unequal lengths.*pass duration="):
        load_dcase(tmp_path, "m", "train")
    data = load_dcase(tmp_path, "m", "train", duration=0.11)
    assert data.X.shape == (2, 1760)
    # cropped clip keeps its start, padded clip ends in zeros
    assert np.all(data.X[0, 1600:] == 0)


def test_resampling_with_soxr(tmp_path):
    write_wav(tmp_path / "m" / "train" / "section_00_source_train_normal_0000.wav", n=800, sr=8000)
    data = load_dcase(tmp_path, "m", "train", sr=16000)
    assert data.X.shape == (1, 1600) and data.sr == 16000
    native = load_dcase(tmp_path, "m", "train", sr=None)
    assert native.sr == 8000 and native.X.shape == (1, 800)


def test_unknown_file_name_is_an_error(tmp_path):
    make_tree(tmp_path / "m", ["train/section_00_source_train_normal_0000.wav", "train/my_recording.wav"])
    with pytest.raises(ValueError, match="my_recording.wav.*naming schemes"):
        load_dcase(tmp_path, "m", "train")


def test_wrong_root_machine_and_split(tmp_path):
    make_tree(tmp_path / "valve", ["train/section_00_source_train_normal_0000.wav"])
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_dcase(tmp_path / "nope", "valve")
    with pytest.raises(FileNotFoundError, match=r"machine 'fan'.*\['valve'\]"):
        load_dcase(tmp_path, "fan")
    with pytest.raises(FileNotFoundError, match="no 'test' data"):
        load_dcase(tmp_path, "valve", "test")
    with pytest.raises(ValueError, match="split must be one of"):
        load_dcase(tmp_path, "valve", "eval")


def test_truncated_and_unreadable_files(tmp_path):
    folder = tmp_path / "m" / "train"
    good = write_wav(folder / "section_00_source_train_normal_0000.wav")
    cut = folder / "section_00_source_train_normal_0001.wav"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioReadError, match=r"section_00_source_train_normal_0001\.wav: truncated"):
        load_dcase(tmp_path, "m", "train")
    garbage = folder / "section_00_source_train_normal_0002.wav"
    garbage.write_bytes(b"not audio at all" * 10)
    with pytest.warns(UserWarning, match=r"(?s)skipped 2 unreadable.*0001\.wav.*0002\.wav"):
        kept = load_dcase(tmp_path, "m", "train", on_error="skip")
    assert kept.filenames.tolist() == [str(good)]
    assert len(kept.y) == len(kept.X) == 1


def test_read_audio_channels(tmp_path):
    path = tmp_path / "multi.wav"
    data = np.stack([np.full(100, 0.25), np.full(100, -0.5), np.full(100, 0.75)], axis=1)
    sf.write(path, data, SR, subtype="FLOAT")
    X, sr = read_audio([path], sr=SR, channel=1)
    np.testing.assert_allclose(X[0], -0.5)
    X, _ = read_audio([path], sr=SR, channel="mean")
    np.testing.assert_allclose(X[0], 1.0 / 6, rtol=1e-6)
    with pytest.raises(AudioReadError, match="channel=5 requested but the file has 3"):
        read_audio([path], sr=SR, channel=5)
    with pytest.raises(ValueError, match="channel must be"):
        read_audio([path], sr=SR, channel="left")


def test_read_audio_parallel_equals_serial(tmp_path):
    paths = [write_wav(tmp_path / f"{i}.wav", seed=i) for i in range(6)]
    serial, _ = read_audio(paths, n_jobs=1)
    parallel, _ = read_audio(paths, n_jobs=2)
    np.testing.assert_array_equal(serial, parallel)
    assert serial.dtype == np.float32


# --- the real recordings of ../shared/data ---------------------------------------------


def test_real_valve_test_split(shared_data):
    test = load_dcase(shared_data / "dcase2023_valve", "valve", "test")
    assert test.X.shape == (200, 160000) and test.X.dtype == np.float32
    assert test.anomaly.sum() == 100
    assert (test.domain == "source").sum() == 100 and (test.domain == "target").sum() == 100
    assert {a["pat"] for a in test.attributes} == {"00", "01", "02", "03"}
    assert set(test.y) == {"section_00"}
    train = load_dcase(shared_data / "dcase2023_valve", "valve", "train")
    assert train.X.shape == (2, 160000) and set(train.anomaly) == {0}


def test_real_toycar_12s_clips_need_duration(shared_data):
    root = shared_data / "dcase2023_dev_samples"
    full = load_dcase(root, "ToyCar", "train")
    assert full.X.shape == (2, 12 * SR)
    cropped = load_dcase(root, "ToyCar", "train", duration=10.0)
    assert cropped.X.shape == (2, 10 * SR)
    np.testing.assert_array_equal(cropped.X, full.X[:, : 10 * SR])
    assert cropped.attributes[0] == {"car": "C2", "spd": "31V", "mic": "1"}


def test_real_mimii_8_channels(shared_data):
    root = shared_data / "mimii_8ch_samples"
    first = load_dcase(root, "valve", "all", channel=0)
    mean = load_dcase(root, "valve", "all", channel="mean")
    assert first.X.shape == mean.X.shape == (4, 160000)
    assert sorted(first.section) == ["id_00", "id_00", "id_06", "id_06"]
    assert first.anomaly.sum() == 1
    raw, _ = sf.read(first.filenames[0], dtype="float32")
    assert raw.shape[1] == 8
    np.testing.assert_allclose(mean.X[0], raw.mean(axis=1), atol=1e-7)
    np.testing.assert_array_equal(first.X[0], raw[:, 0])


def test_real_truncated_file_is_named(shared_data, tmp_path):
    src = (
        shared_data / "dcase2023_valve" / "valve" / "train" / "section_00_source_train_normal_0095_pat_01.wav"
    )
    dst = tmp_path / "valve" / "train" / src.name
    dst.parent.mkdir(parents=True)
    shutil.copy(src, dst)
    dst.write_bytes(dst.read_bytes()[:100000])
    with pytest.raises(AudioReadError, match="section_00_source_train_normal_0095_pat_01.wav: truncated"):
        load_dcase(tmp_path, "valve", "train")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AudioReadError):
            read_audio([dst])


def test_nan_samples_are_an_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.wav"
    data = np.zeros(100, dtype=np.float32)
    data[10] = np.nan
    sf.write(path, data, SR, subtype="FLOAT")
    with pytest.raises(AudioReadError, match="broken.wav: the file holds NaN"):
        read_audio([path])


def test_clips_named_anomalous_in_train_are_refused(tmp_path):
    import soundfile as sf

    (tmp_path / "fan" / "train").mkdir(parents=True)
    for name in ("section_00_source_train_normal_0000.wav", "section_00_source_train_anomaly_0001.wav"):
        sf.write(tmp_path / "fan" / "train" / name, np.zeros(1600, np.float32), 16000)
    with pytest.raises(
        ValueError,
        match=r"1 clip\(s\) in the training folder of fan are named anomalous "
        r"\(section_00_source_train_anomaly_0001.wav\)",
    ):
        load_dcase(tmp_path, "fan", "train")
