"""The two models: output shapes, and enough capacity to memorise one batch."""

import pytest
import torch
import torch.nn.functional as F

import common
import train_cnn
import training
from train_cnn import CNN
from train_mlp import MLP


@pytest.mark.parametrize("model_class", [MLP, CNN])
@pytest.mark.parametrize("batch", [1, 7])
def test_output_shape(model_class, batch):
    model = model_class().eval()
    logits = model(torch.randn(batch, 1, 28, 28))
    assert logits.shape == (batch, 10)
    assert logits.dtype == torch.float32


@pytest.mark.parametrize("model_class", [MLP, CNN])
def test_number_of_classes_follows_the_argument(model_class):
    assert model_class(num_classes=3).eval()(torch.randn(2, 1, 28, 28)).shape == (2, 3)


def test_mlp_has_no_convolutions():
    assert not any(isinstance(m, torch.nn.Conv2d) for m in MLP().modules())


@pytest.mark.parametrize("model_class", [MLP, CNN])
def test_overfits_one_batch(model_class, mnist):
    # A model that cannot learn 64 fixed images by heart has a bug (wrong labels, no gradient flow...).
    torch.manual_seed(0)
    images, labels = mnist.train_x[:64], mnist.train_y[:64]
    model = model_class()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(150):
        model.train()
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    loss, accuracy = common.loss_and_accuracy(common.predict_logits(model, images), labels)
    assert accuracy == 100.0
    assert loss < 0.05


def test_cnn_recipe_takes_the_fused_adamw_step_which_steps_like_the_plain_one(mnist, tmp_path):
    torch.manual_seed(0)
    fused, plain = CNN(), CNN()
    plain.load_state_dict(fused.state_dict())
    # The recipe draws its non-digits and keeps them in the data folder: a folder of this test's own.
    args = training.make_parser("", **train_cnn.DEFAULTS).parse_args(["--data-dir", str(tmp_path)])
    optimizer = train_cnn.recipe(fused, mnist, args).optimizer
    assert optimizer.defaults["fused"]  # this PyTorch (2.4 or newer) has a fused step for the CPU
    group = optimizer.param_groups[0]  # as the one-cycle schedule set them for the first step
    optimizers = [optimizer, torch.optim.AdamW(plain.parameters(), lr=group["lr"], betas=group["betas"],
                                               weight_decay=group["weight_decay"])]
    images, labels = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    for model, optimizer in zip([fused, plain], optimizers):
        torch.manual_seed(1)  # the same dropout for both
        for _ in range(3):
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
            optimizer.zero_grad()
    for mine, theirs in zip(fused.parameters(), plain.parameters()):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("maker, avx512_bf16, amx, expected", [
    ("AuthenticAMD", True, False, True),    # Zen 4: bfloat16 trains faster
    ("GenuineIntel", True, False, False),   # AVX512-BF16 without AMX: slower than float32
    ("GenuineIntel", True, True, True),     # AMX
    ("AuthenticAMD", False, False, False),  # Zen 3: no AVX-512 at all
])
def test_bfloat16_only_where_it_pays(monkeypatch, maker, avx512_bf16, amx, expected):
    monkeypatch.setattr(common, "processor_maker", lambda: maker)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    assert common.bf16_pays(torch.device("cpu")) is expected
