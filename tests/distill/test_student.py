"""Student shapes, initialisation from the teacher, width projections, save/load round trip."""

import pytest
import torch

from kgnlu.data.tokenizer import train_wordpiece
from kgnlu.distill import StudentSpec, WidthProjection, build_student, load_student, save_student
from kgnlu.distill.student import read_provenance, student_config
from kgnlu.encoders import Encoder
from kgnlu.errors import DistillationError
from tests.encoders.conftest import ragged_batch, tiny


@pytest.fixture
def teacher():
    torch.manual_seed(0)
    return Encoder(tiny("bert", num_layers=4)).eval()  # H=32, 4 layers, 4 heads, V=97


def test_copied_layers_equal_the_teachers(teacher):
    student, copied = build_student(teacher, StudentSpec(num_layers=2))
    assert copied == [0, 3]  # one out of two, both ends kept
    for index, source in enumerate(copied):
        ours, theirs = student.layers.blocks_of_layer(index), teacher.layers.blocks_of_layer(source)
        for a, b in zip(ours, theirs, strict=True):
            for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
                assert torch.equal(p, q), name
    for (name, p), (_, q) in zip(student.embeddings.state_dict().items(), teacher.embeddings.state_dict().items(),
                                 strict=True):
        assert torch.equal(p, q), name
    assert torch.equal(student.pooler.dense.weight, teacher.pooler.dense.weight)
    # copies, not shared tensors: training the student leaves the teacher alone
    assert student.layers.attention_blocks[0].attention.qkv.weight.data_ptr() != \
        teacher.layers.attention_blocks[0].attention.qkv.weight.data_ptr()


def test_explicit_init_layers(teacher):
    student, copied = build_student(teacher, StudentSpec(num_layers=2, init_layers=[1, 2]))
    assert copied == [1, 2]
    assert torch.equal(student.layers.ffn_blocks[1].up.weight, teacher.layers.ffn_blocks[2].up.weight)


def test_a_two_layer_copy_of_layers_0_and_1_computes_the_teachers_second_hidden_state(teacher):
    student, _ = build_student(teacher, StudentSpec(num_layers=2, init_layers=[0, 1]))
    ids, mask = ragged_batch()
    with torch.no_grad():
        ours = student.eval()(ids, mask).last_hidden_state
        theirs = teacher(ids, mask, output_hidden_states=True).hidden_states[2]
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_narrow_student_shape_and_projection(teacher):
    spec = StudentSpec(num_layers=2, hidden_size=16, num_heads=4)
    config = student_config(teacher.config, spec)
    assert (config.hidden_size, config.ffn_size, config.num_heads, config.vocab_size) == (16, 32, 4, 97)
    student, copied = build_student(teacher, spec)
    assert copied is None  # nothing can be copied across widths
    ids, mask = ragged_batch()
    hidden = student(ids, mask).last_hidden_state
    assert hidden.shape == (4, 9, 16)
    projection = WidthProjection(16, 32)
    assert projection(hidden).shape == (4, 9, 32)
    assert projection.linear.weight.shape == (32, 16)
    with pytest.raises(DistillationError):
        build_student(teacher, StudentSpec(num_layers=2, hidden_size=16, num_heads=4, init="teacher"))


def test_equal_width_projection_starts_as_identity():
    projection = WidthProjection(8, 8)
    x = torch.randn(3, 8)
    assert torch.allclose(projection(x), x)


def test_save_and_load_round_trip(teacher, tmp_path):
    tokenizer = train_wordpiece(["the river bank flooded", "a bank lends money"] * 20, vocab_size=97, min_frequency=1)
    student, _ = build_student(teacher, StudentSpec(num_layers=2))
    folder = save_student(student, tokenizer, tmp_path / "student", {"method": "test", "init_layers": [0, 3]})
    loaded, loaded_tokenizer = load_student(folder)
    ids, mask = ragged_batch()
    with torch.no_grad():
        assert torch.allclose(student.eval()(ids, mask).last_hidden_state, loaded.eval()(ids, mask).last_hidden_state)
    assert loaded_tokenizer.encode("the bank") == tokenizer.encode("the bank")
    assert read_provenance(folder)["init_layers"] == [0, 3]
    assert isinstance(Encoder.from_pretrained(folder), Encoder)  # an ordinary encoder folder too


def test_narrower_ffn_keeps_the_most_important_neurons(teacher):
    student, copied = build_student(teacher, StudentSpec(num_layers=2, ffn_size=16))
    assert copied == [0, 3] and student.config.ffn_size == 16
    theirs, ours = teacher.layers.ffn_blocks[3], student.layers.ffn_blocks[1]
    # importance by hand: ‖up row j‖ · ‖down column j‖, the 16 largest of the teacher's 64, in order
    with torch.no_grad():
        importance = [float(theirs.up.weight[j].norm() * theirs.down.weight[:, j].norm()) for j in range(64)]
    kept = sorted(sorted(range(64), key=lambda j: -importance[j])[:16])
    assert torch.equal(ours.up.weight, theirs.up.weight[kept])
    assert torch.equal(ours.down.weight, theirs.down.weight[:, kept])
    assert torch.equal(ours.down.bias, theirs.down.bias)
    assert torch.equal(student.layers.attention_blocks[1].attention.qkv.weight,
                       teacher.layers.attention_blocks[3].attention.qkv.weight)
