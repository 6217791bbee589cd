import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sklearn_asd.features import LogMel
from sklearn_asd.nn import (
    MOBILEFACENET_SETTING,
    AdaCos,
    ArcFace,
    DualBranchNet,
    FeatEx,
    LinearHead,
    LogMelLayer,
    MobileFaceNet,
    MobileNetV2,
    MultiResNet,
    ResNet,
    SEBlock,
    SepSTgramNet,
    STgramNet,
    SubClusterAdaCos,
    TgramNet,
    kl_divergence,
    soft_cross_entropy,
)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# ----------------------------------------------------------------------- architectures


def test_mobilenetv2_half_width_is_giris_table():
    giri = [
        (1, 8, 1, 1),
        (6, 16, 2, 2),
        (6, 16, 3, 2),
        (6, 32, 4, 2),
        (6, 48, 3, 1),
        (6, 80, 3, 2),
        (6, 160, 1, 1),
    ]
    net = MobileNetV2(0.5)
    assert net.stages() == giri
    assert net.features[0][0].out_channels == 16 and net.features[0][0].stride == (2, 2)
    assert net.features[-1][0].out_channels == 1280 and net.embedding_dim == 1280
    assert n_params(net) == 687_392


def test_parameter_counts_equal_the_reference_architectures():
    # torchvision's totals (3,504,872 / 11,689,512 / 25,557,032) minus their 1000-class classifiers
    assert n_params(MobileNetV2(1.0, in_channels=3)) == 3_504_872 - (1280 * 1000 + 1000)
    assert n_params(ResNet(18, in_channels=3)) == 11_689_512 - (512 * 1000 + 1000)
    assert n_params(ResNet(50, in_channels=3)) == 25_557_032 - (2048 * 1000 + 1000)
    # MobileFaceNet at its 112 x 112-style 7 x 7 global depthwise kernel: the paper's 0.99 M
    face = MobileFaceNet(input_shape=(224, 224), in_channels=3)
    assert face.feature_shape == (7, 7)
    assert abs(n_params(face) - 0.99e6) / 0.99e6 < 0.02


def test_mobilefacenet_is_moritas_table():
    net = MobileFaceNet(input_shape=(1024, 32))
    blocks = [m for m in net.features if hasattr(m, "expand_ratio")]
    assert len(blocks) == sum(n for _, _, n, _ in MOBILEFACENET_SETTING) == 15
    assert [(b.expand_ratio, b.out_channels) for b in blocks[:5]] == [(2, 64)] * 5
    assert net.feature_shape == (32, 1)  # 1024 x 32 halved five times
    assert net(torch.randn(2, 1024, 32)).shape == (2, 128)
    with pytest.raises(ValueError, match="built for inputs of shape \\(1024, 32\\)"):
        net(torch.randn(2, 512, 32))


@pytest.mark.parametrize(
    "net, dim",
    [
        (MobileNetV2(0.5), 1280),
        (MobileNetV2(0.5, embedding_dim=128), 128),
        (ResNet(18), 512),
        (ResNet(50), 2048),
    ],
    ids=["mnv2", "mnv2-128", "resnet18", "resnet50"],
)
def test_backbones_embed_patches(net, dim):
    net.eval()
    patches = torch.randn(3, 64, 64)
    with torch.no_grad():
        out = net(patches)
        assert out.shape == (3, dim) and net.embedding_dim == dim
        torch.testing.assert_close(net(patches.unsqueeze(1)), out)  # (B, 1, F, T) works too


def test_logmel_layer_equals_logmel():
    x = np.random.default_rng(0).normal(size=(2, 8000)).astype(np.float32) * 0.1
    ref = LogMel(n_mels=64).fit_transform(x)
    out = LogMelLayer(n_mels=64)(torch.from_numpy(x)).numpy()
    assert out.shape == ref.shape
    near_top = ref > ref.max() - 80
    assert np.abs(out - ref)[near_top].max() < 1e-3


def test_stgram_family_shapes():
    wave = torch.randn(2, 16000)
    tgram = TgramNet(n_frames=32)
    assert tgram(wave).shape == (2, 128, 32)  # the shape of the log-mel
    assert [type(m).__name__ for m in tgram.encoder[0]] == ["LayerNorm", "LeakyReLU", "Conv1d"]
    st = STgramNet(16000).eval()
    assert st.backbone.stem[0].in_channels == 2 and st(wave).shape == (2, 512)
    sep = SepSTgramNet(16000, embedding_dim=256).eval()
    assert sep(wave).shape == (2, 256)
    with pytest.raises(ValueError, match="waveforms of shape \\(batch, 16000\\)"):
        st(torch.randn(2, 8000))


def test_dual_branch_net_branches_and_invariance_to_level():
    wave = torch.randn(3, 16000)
    net = DualBranchNet(16000, n_mels=32, branch_dim=16, embedding_dim=24).eval()
    assert net(wave).shape == (3, 24) and net.embedding_dim == 24
    # three branches (spectrum, log-mel, phase), PReLU activations, as Hai et al.'s model A
    assert net.joint[1].in_features == 3 * 16
    assert any(isinstance(m, torch.nn.PReLU) for m in net.spectrum.modules())
    # the waveform is standardized first: a louder copy embeds the same
    torch.testing.assert_close(net(10.0 * wave), net(wave), rtol=1e-3, atol=1e-3)
    two = DualBranchNet(16000, n_mels=32, branch_dim=16, embedding_dim=24, phase=False).eval()
    assert two.phase_branch is None and two(wave).shape == (3, 24)
    # short clips: the spectrum branch's kernels shrink instead of failing
    assert DualBranchNet(2000, n_mels=16, branch_dim=8).eval()(torch.randn(2, 2000)).shape == (2, 256)


def test_multires_net_branches_and_band():
    wave = torch.randn(3, 16000)
    net = MultiResNet(16000, n_ffts=(256, 1024, 4096), branch_dim=16).eval()
    # the spectrum branch and one STFT branch per resolution, concatenated: each part one branch's
    assert net.branch_dims == (16, 16, 16, 16) and net.embedding_dim == 64 and net(wave).shape == (3, 64)
    torch.testing.assert_close(net(wave)[:, 16:32], net.stfts[0](wave))
    torch.testing.assert_close(net(wave)[:, :16], net.spectrum(wave))
    # the STFT branches keep the bins of 200-8000 Hz (n_fft 1024 at 16 kHz: 15.6 Hz a bin)
    branch = net.stfts[1]
    assert (branch.lo, branch.hi) == (13, 513) and branch.freq_norm.num_features == 500
    assert (
        sum(isinstance(m, SEBlock) for m in net.modules()) == 3 + 3 * 8
    )  # 1-D convs; 8 residual blocks a branch
    plain = MultiResNet(16000, n_ffts=(1024,), spectrum=False, branch_dim=8, se=False).eval()
    assert plain.branch_dims == (8,) and not any(isinstance(m, SEBlock) for m in plain.modules())
    # short inputs: a 4096-point STFT of 0.5 s has 5 frames, the spectrum kernels shrink
    assert MultiResNet(8000, branch_dim=8).eval()(torch.randn(2, 8000)).shape == (2, 32)
    with pytest.raises(ValueError, match="multiple of 8"):
        MultiResNet(16000, branch_dim=12)


# ----------------------------------------------------------------------- heads and losses


def test_cross_entropy_and_kl_against_their_formulas():
    torch.manual_seed(0)
    logits = torch.randn(4, 3, requires_grad=True)
    hard = torch.tensor([0, 2, 1, 2])
    soft = torch.tensor([[0.4, 0.6, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0], [0.1, 0.2, 0.7]])
    p = torch.softmax(logits, dim=1)
    assert torch.allclose(soft_cross_entropy(logits, hard), -torch.log(p[torch.arange(4), hard]).mean())
    assert torch.allclose(soft_cross_entropy(logits, soft), -(soft * torch.log(p)).sum(1).mean())
    terms = torch.where(soft > 0, soft * torch.log(soft / p), torch.zeros_like(soft))
    assert torch.allclose(kl_divergence(logits, soft), terms.sum(1).mean())
    # with soft targets, KL and cross-entropy differ by the targets' entropy: same gradient
    g_ce = torch.autograd.grad(soft_cross_entropy(logits, soft), logits)[0]
    g_kl = torch.autograd.grad(kl_divergence(logits, soft), logits)[0]
    assert torch.allclose(g_ce, g_kl, atol=1e-6)
    assert torch.allclose(kl_divergence(logits, hard), soft_cross_entropy(logits, hard), atol=1e-6)


def test_arcface_against_its_formula():
    torch.manual_seed(0)
    head = ArcFace(8, 5, s=30.0, m=0.5)
    z, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    cos = (F.normalize(z) @ F.normalize(head.weight).T).detach().numpy()
    logits = head.train()(z, y).detach().numpy()
    theta = np.arccos(np.clip(cos, -1, 1))
    for i, t in enumerate(y.numpy()):
        expected = (
            np.cos(theta[i, t] + 0.5) if theta[i, t] + 0.5 < math.pi else cos[i, t] - 0.5 * math.sin(0.5)
        )
        assert logits[i, t] == pytest.approx(30 * expected, abs=1e-4)
        others = np.delete(np.arange(5), t)
        np.testing.assert_allclose(logits[i, others], 30 * cos[i, others], atol=1e-4)
    np.testing.assert_allclose(
        head.eval()(z, y).detach().numpy(), 30 * cos, atol=1e-4
    )  # no margin at inference
    with pytest.raises(ValueError, match="need hard class targets"):
        head.train()(z, torch.full((6, 5), 0.2))


def test_adacos_scale_update_against_its_formula():
    torch.manual_seed(0)
    head = AdaCos(8, 4)
    assert float(head.s) == pytest.approx(math.sqrt(2) * math.log(3))
    z, y = torch.randn(10, 8), torch.tensor([0, 1, 2, 3] * 2 + [0, 1])
    cos = (F.normalize(z) @ F.normalize(head.weight).T).detach().double()
    s0 = float(head.s)
    head.train()(z, y)
    onehot = F.one_hot(y, 4).bool()
    b_avg = torch.where(onehot, 0.0, torch.exp(s0 * cos)).sum(1).mean()
    theta_med = torch.median(torch.acos(cos[onehot]))
    expected = torch.log(b_avg) / torch.cos(torch.clamp(theta_med, max=math.pi / 4))
    assert float(head.s) == pytest.approx(float(expected), rel=1e-5)
    s1 = float(head.s)
    head.eval()(z, y)  # no update outside training
    assert float(head.s) == s1


def test_adacos_fixed_centres_fixed_scale_and_soft_targets():
    torch.manual_seed(0)
    z, soft = torch.randn(6, 8), torch.softmax(torch.randn(6, 3), dim=1)
    head = SubClusterAdaCos(8, 3, n_subclusters=2, trainable=False, dynamic=False)
    s0, w0 = float(head.s), head.weight.detach().clone()
    assert not head.weight.requires_grad
    opt = torch.optim.SGD([p for p in head.parameters() if p.requires_grad] + [z.requires_grad_()], lr=0.1)
    soft_cross_entropy(head.train()(z, soft), soft).backward()
    opt.step()
    assert float(head.s) == s0 and torch.equal(head.weight, w0)  # neither the scale nor the centres move
    # a dynamic head follows each soft row's largest class for its scale
    dynamic, hard = AdaCos(8, 3), soft.argmax(dim=1)
    twin = AdaCos(8, 3)
    twin.load_state_dict(dynamic.state_dict())
    dynamic.train()(z, soft), twin.train()(z, hard)
    assert float(dynamic.s) == float(twin.s) != pytest.approx(math.sqrt(2) * math.log(2))


def test_featex_exchanges_branch_parts_and_labels_their_origin():
    torch.manual_seed(0)
    head = FeatEx(6, 3, branch_dims=(2, 4), n_subclusters=2, prob=1.0)
    z, y = torch.randn(5, 6), torch.tensor([0, 1, 2, 0, 1])
    z_ex, t_ex = head.exchanged(z, y)
    # part 0 stays, part 1 comes from another row; target: block 1 its own class, block 2 the
    # class of the row its part 1 came from, 1/2 each
    torch.testing.assert_close(z_ex[:, :2], z[:, :2])
    donors = [int(np.flatnonzero((z[:, 2:] == row).all(dim=1))[0]) for row in z_ex[:, 2:]]
    assert sorted(donors) == list(range(5))
    for i, j in enumerate(donors):
        expected = torch.zeros(9)
        expected[3 + int(y[i])] += 0.5
        expected[6 + int(y[j])] += 0.5
        torch.testing.assert_close(t_ex[i], expected)
    # nothing exchanged: the embedding as it is, its class in block 0
    never = FeatEx(6, 3, branch_dims=(2, 4), prob=0.0)
    z_same, t_same = never.exchanged(z, y)
    torch.testing.assert_close(z_same, z)
    torch.testing.assert_close(t_same, F.one_hot(y, 9).float())
    # inference: the main head alone (fixed centres by default, trainable exchange head)
    torch.testing.assert_close(head.eval()(z), head.main.eval()(z))
    assert not head.main.weight.requires_grad and head.exchange.weight.requires_grad
    assert head.exchange.n_classes == 9
    loss = head.train().auxiliary_loss(z.requires_grad_(), y)
    loss.backward()
    assert loss.ndim == 0 and z.grad is not None
    with pytest.raises(ValueError, match="two or more branches"):
        FeatEx(6, 3, branch_dims=(6,))


def test_subcluster_adacos_class_probability_is_the_sum_of_its_centres():
    torch.manual_seed(0)
    head = SubClusterAdaCos(8, 3, n_subclusters=4).eval()
    z = torch.randn(5, 8)
    centre_logits = head.s * (F.normalize(z) @ F.normalize(head.weight).T)
    expected = torch.softmax(centre_logits, dim=1).view(5, 3, 4).sum(dim=2)
    torch.testing.assert_close(torch.softmax(head(z), dim=1), expected)
    assert float(head.s) == pytest.approx(math.sqrt(2) * math.log(11))


def test_heads_train_a_separable_problem():
    torch.manual_seed(0)
    z = torch.randn(60, 4)
    y = (z[:, 0] > 0).long() + 2 * (z[:, 1] > 0).long()
    for head in (
        LinearHead(4, 4),
        ArcFace(4, 4, s=10.0, m=0.2),
        AdaCos(4, 4),
        SubClusterAdaCos(4, 4, n_subclusters=3),
    ):
        opt = torch.optim.Adam(head.parameters(), lr=0.05)
        for _ in range(200):
            opt.zero_grad()
            soft_cross_entropy(head.train()(z, y), y).backward()
            opt.step()
        accuracy = (head.eval()(z).argmax(1) == y).float().mean()
        assert accuracy > 0.9, type(head).__name__


def test_stft_image_net_resizes_the_whole_clip_image():
    from sklearn_asd.nn import STFTImageNet

    net = STFTImageNet(16000, size=(64, 48), width_mult=0.25).eval()
    x = torch.randn(2, 16000)
    image = net.image(x)
    assert image.shape == (2, 1, 64, 48)
    # the image is the dB power of 256 ms windows with 50 % overlap: a 1 kHz tone peaks at 1 kHz
    tone = torch.sin(2 * torch.pi * 1000 * torch.arange(16000) / 16000)[None]
    row = net.image(tone)[0, 0].mean(dim=1).argmax().item()
    assert abs(row / 64 * 8000 - 1000) < 8000 / 64 * 1.5
    assert net(x).shape == (2, net.embedding_dim)
    with pytest.raises(ValueError, match="too short for n_fft=4096"):
        STFTImageNet(1000)
