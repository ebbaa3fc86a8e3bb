"""`kgnlu distill` end to end on a tiny teacher folder: MLM head → DistilBERT student → TinyBERT student."""

import json
from pathlib import Path

import pytest
import torch

from kgnlu.cli import main
from kgnlu.data.tokenizer import train_wordpiece
from kgnlu.distill import DistillConfig, load_student
from kgnlu.encoders import Encoder
from kgnlu.errors import ConfigError
from tests.encoders.conftest import tiny

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SENTENCES = ["The river bank flooded after the storm.", "A bank lends money to people.",
             "Paris is the capital of France.", "The dog chased the cat around the garden.",
             "Rivers carry water to the sea.", "She kept her savings in a bank account."]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("distill-cli")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES * 4) + "\n", encoding="utf-8")
    tokenizer = train_wordpiece(SENTENCES * 10, vocab_size=120, min_frequency=1)
    tokenizer.save(root / "tokenizer")
    torch.manual_seed(0)
    teacher = Encoder(tiny("bert", vocab_size=tokenizer.vocab_size, num_layers=4, pad_token_id=tokenizer.pad_id))
    teacher.save_pretrained(root / "teacher")
    common = [f"teacher={root / 'teacher'}", f"tokenizer={root / 'tokenizer'}", "data.corpus=text",
              f"+data.corpus_options={{paths: [{corpus}]}}", "data.batch_size=4", "data.instances.max_length=16",
              "data.instances.shuffle_buffer=8", "trainer.log_every=1", "trainer.tensorboard=false",
              "trainer.plot=false", "trainer.warmup_steps=0"]
    return root, common


def run(args, capsys) -> dict:
    assert main(["distill", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_help(capsys):
    assert main(["distill", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--config" in out and "DistilBERT" in out


def test_shipped_configs_load():
    head = DistillConfig.load(CONFIGS / "distill-mlm-head.yaml")
    three = DistillConfig.load(CONFIGS / "distill-3layer.yaml")
    two = DistillConfig.load(CONFIGS / "distill-2layer.yaml")
    assert head.method == "mlm_head" and three.method == "distilbert" and two.method == "tinybert"
    assert three.student.num_layers == 3 and two.student.num_layers == 2 and two.task is not None
    assert three.mlm_head == head.out_dir + "/mlm_head"
    with pytest.raises(ConfigError):
        DistillConfig.load(CONFIGS / "distill-3layer.yaml", ["+losses.attention=1.0"])  # not a DistilBERT loss


def test_head_then_distilbert_then_tinybert(setup, capsys):
    root, common = setup
    head = run(["--config", str(CONFIGS / "distill-mlm-head.yaml"), *common, f"out_dir={root / 'head'}",
                "--max-steps", "3"], capsys)
    assert head["steps"] == 3 and (root / "head" / "mlm_head" / "mlm_head.safetensors").is_file()

    three = run(["--config", str(CONFIGS / "distill-3layer.yaml"), *common, f"out_dir={root / 'three'}",
                 f"mlm_head={root / 'head' / 'mlm_head'}", "--max-steps", "3"], capsys)
    assert three["init_layers"] == [0, 2, 3]
    for key in ("soft_ce_loss", "mlm_loss", "cosine_loss"):
        assert key in three["metrics"]
    student, tokenizer = load_student(three["student"])
    assert student.config.num_layers == 3 and tokenizer.vocab_size == student.config.vocab_size

    two = run(["--config", str(CONFIGS / "distill-2layer.yaml"), *common, f"out_dir={root / 'two'}", "task=null",
               "student.hidden_size=16", "student.num_heads=4", "student.init=auto", "--max-steps", "3"], capsys)
    assert two["init_layers"] is None and two["layer_map"] == [0, 2, 4]
    for key in ("embedding_loss", "hidden_loss", "attention_loss"):
        assert key in two["metrics"]
    assert Encoder.from_pretrained(two["student"]).config.hidden_size == 16
    provenance = json.loads((Path(two["student"]) / "distill.json").read_text())
    assert provenance["method"] == "tinybert" and provenance["layer_map"] == [0, 2, 4]


def test_distilbert_without_a_head_says_what_to_do(setup, capsys):
    root, common = setup
    code = main(["distill", "--config", str(CONFIGS / "distill-3layer.yaml"), *common,
                 f"out_dir={root / 'nohead'}", f"mlm_head={root / 'missing'}", "--max-steps", "1"])
    assert code == 2
    assert "fit the teacher's MLM head first" in capsys.readouterr().err
