"""``kgnlu qa``: answer questions over a graph (``kgnlu qa GRAPH "question"``) and train QA models
(``kgnlu qa train GRAPH --data DIR --out DIR``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from kgnlu.errors import ConfigError


class _AskByDefault(TyperGroup):
    """``kgnlu qa GRAPH ...`` means ``kgnlu qa ask GRAPH ...``: a first word that is not a
    subcommand is the graph."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands:
            return "ask", self.commands["ask"], args
        return super().resolve_command(ctx, args)

    def format_help(self, ctx, formatter):
        """``kgnlu qa --help`` also lists the options of the default command (``--input``,
        ``--choice``, ``--json``, ...): ``kgnlu qa GRAPH ...`` takes them, so a user reading the group's
        help must see them."""
        from typer.core import HAS_RICH

        super().format_help(ctx, formatter)
        ask = self.commands["ask"]
        sub = type(ctx)(ask, info_name="ask", parent=ctx)
        options = [p for p in ask.get_params(sub) if p.param_type_name == "option" and p.name != "help"]
        title = "Options of `kgnlu qa GRAPH [QUESTION]` (= `kgnlu qa ask`)"
        if HAS_RICH and self.rich_markup_mode is not None:
            from typer import rich_utils

            rich_utils._print_options_panel(name=title, params=options, ctx=sub, markup_mode=self.rich_markup_mode,
                                            console=rich_utils._get_rich_console())
        else:
            with formatter.section(title):
                formatter.write_dl([p.get_help_record(sub) for p in options])


app = typer.Typer(cls=_AskByDefault, no_args_is_help=True,
                  help="Answer questions from a graph, with evidence paths: `kgnlu qa GRAPH QUESTION`, "
                       "`kgnlu qa train GRAPH --data DIR --out DIR`.")


def read_questions(path: Path) -> Iterator[dict]:
    """``{"question": ..., "choices": [...]?}`` a line (.jsonl), or one question a line (.txt)."""
    if not path.is_file():
        raise ConfigError(f"--input {path}: no such file")
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            if path.suffix.lower() not in (".jsonl", ".ndjson"):
                yield {"question": line.rstrip("\r\n")}
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{path}:{lineno}: not JSON ({err.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
                raise ConfigError(f'{path}:{lineno}: expected an object with a "question" string')
            choices = obj.get("choices")
            if choices is not None and not (isinstance(choices, list) and all(isinstance(c, str) for c in choices)):
                raise ConfigError(f'{path}:{lineno}: "choices" must be a list of strings')
            yield obj


@app.command("ask")
def ask(
    graph: Annotated[Path, typer.Argument(help="The graph directory the model was trained on.")],
    question: Annotated[str | None, typer.Argument(help="A question (or use --input, or stdin).")] = None,
    input_file: Annotated[Path | None, typer.Option(
        "--input", help='.jsonl ({"question": ..., "choices": [...]} a line) or .txt (one a line).')] = None,
    as_json: Annotated[bool, typer.Option("--json", help='One JSON object a line: {"question", "answers"}.')] = False,
    model: Annotated[Path | None, typer.Option(
        "--model", help="A trained QA model (default: the default model when it was trained on GRAPH, "
                        "else zero-shot).")] = None,
    zero_shot: Annotated[bool, typer.Option(
        "--zero-shot", help="Answer without a trained model even when one fits the graph.")] = False,
    k: Annotated[int, typer.Option("-k", "--top", min=1, help="Answers per question.")] = 5,
    choice: Annotated[list[str] | None, typer.Option(
        "--choice", help="Multiple-choice mode: a choice (repeat the option for each).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Questions answered together.")] = 32,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 2,
) -> None:
    """Answer questions from the graph: top answers with scores and the evidence paths behind them.

    Any graph answers: without --model, the default QA model is used when it was trained on this
    graph, and any other graph answers zero-shot (relation paths and types read from the graph
    itself; `kgnlu data make-qa` + `kgnlu qa train` then improve it).
    """
    import torch

    torch.set_num_threads(threads)
    if question is not None and input_file is not None:
        raise ConfigError("give QUESTION or --input, not both")
    if model is not None and zero_shot:
        raise ConfigError("give --model or --zero-shot, not both")
    qa = open_qa(graph, model, zero_shot)
    if question is not None:
        items: Iterator[dict] = iter([{"question": question, **({"choices": choice} if choice else {})}])
    elif input_file is not None:
        items = read_questions(input_file)
    else:
        items = ({"question": line.rstrip("\r\n")} for line in sys.stdin if line.strip())
    batch: list[dict] = []
    for item in items:
        if item.get("choices"):
            _answer(qa, batch, k, as_json)  # keep the input order
            _emit(qa.choose(item["question"], item["choices"]).to_json(), as_json)
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            _answer(qa, batch, k, as_json)
    _answer(qa, batch, k, as_json)


def open_qa(graph: Path, model: Path | None, zero_shot: bool = False):
    """:func:`kgnlu.qa.default.open_qa` (the library function; kept here for callers of the command module)."""
    from kgnlu.qa.default import open_qa as _open_qa

    return _open_qa(graph, model, zero_shot)


def _answer(qa, batch: list[dict], k: int, as_json: bool) -> None:
    if not batch:
        return
    for result in qa.answer_batch([b["question"] for b in batch], k):
        _emit(result.to_json(), as_json)
    batch.clear()


def _emit(obj: dict, as_json: bool) -> None:
    out = sys.stdout
    if as_json:
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        return
    out.write(obj["question"] + "\n")
    if "choices" in obj:
        for c in obj["choices"]:
            mark = "*" if c["choice"] == obj.get("answer") else " "
            out.write(f" {mark} {c['score']:.3f}  {c['choice']}  ({c['label'] or '?'})\n")
            if c.get("matched"):
                out.write(f"        gloss match: {c['matched']}\n")
            for ev in c["evidence"][:2]:
                out.write(f"        {ev['text']}\n")
    elif not obj["answers"]:
        out.write(f"  (no answer: {obj.get('reason', 'nothing found')})\n")
    for a in obj.get("answers", []):
        out.write(f"  {a['score']:.3f}  {a['label']}  [{a['entity']}]\n")
        for ev in a["evidence"][:2]:
            out.write(f"        {ev['text']}\n")
    out.flush()


@app.command("train")
def train(
    graph: Annotated[Path, typer.Argument(help="The graph the QA data was generated from.")],
    data: Annotated[Path, typer.Option("--data", help="Folder from `kgnlu data make-qa` (train/dev JSONL).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write (replaced atomically).")],
    config: Annotated[Path | None, typer.Option(help="YAML with a `qa:` section (e.g. configs/qa-default.yaml).")] = None,
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides, e.g. qa.epochs=4.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON.")] = False,
    encoder: Annotated[Path | None, typer.Option(
        help="A saved kgnlu/HF encoder folder, or a KGEncoder folder (kg_encoder.json; reads the questions' "
             "linked entities), to embed questions with (default: the packaged MiniLM).")] = None,
    tokenizer: Annotated[Path | None, typer.Option(
        help="Its tokenizer folder (default: the encoder folder).")] = None,
    holdout_templates: Annotated[bool, typer.Option(
        help="Train without the last training template of every path and report how the model does on "
             "those questions (report's holdout_templates): a paraphrase check for choosing settings "
             "that never reads the test splits.")] = False,
) -> None:
    """Train a KGQA model (relation-path scorer, typing and topic heads, subgraph GNN).

    The question encoder is frozen (the packaged MiniLM unless --encoder); questions are embedded once.
    """
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.qa import KGQA
    from kgnlu.qa.config import QATrainConfig

    cfg = QATrainConfig.load(config, overrides or []).qa
    kg = KnowledgeGraph.load(graph, verify=False)
    enc = tok = None
    if encoder is not None:
        from kgnlu.data.tokenizer import Tokenizer
        from kgnlu.encoders import Encoder
        from kgnlu.fusion.kg_encoder import CONFIG_FILE as KG_ENCODER_CONFIG
        from kgnlu.fusion.kg_encoder import KGEncoder

        # a KGEncoder.save_pretrained folder (fused: questions are embedded with their linked entities)
        fused = (encoder / KG_ENCODER_CONFIG).is_file()
        enc = KGEncoder.from_pretrained(encoder) if fused else Encoder.from_pretrained(encoder)
        tok = Tokenizer.load(tokenizer or encoder)
    qa = KGQA(kg, encoder=enc, tokenizer=tok, config=cfg)
    log = (lambda s: print(s, file=sys.stderr)) if as_json else print
    report = qa.fit(data, out=out, log=log, holdout_templates=holdout_templates)
    if as_json:
        print(json.dumps(report))
    else:
        print(f"saved {out}")


@app.command("eval")
def evaluate(
    graph: Annotated[Path, typer.Argument(help="The graph the model was trained on.")],
    data: Annotated[Path, typer.Option("--data", help="Folder from `kgnlu data make-qa`.")],
    model: Annotated[Path | None, typer.Option(
        "--model", help="A trained QA model (default: $KGNLU_HOME/qa/models/default).")] = None,
    split: Annotated[list[str] | None, typer.Option(help="Splits to score (repeatable).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Score at most this many questions a split "
                                                           "(spread evenly over templates).")] = None,
    latency_samples: Annotated[int, typer.Option(min=0, help="Single questions timed (0: skip).")] = 200,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as one JSON object.")] = False,
) -> None:
    """hits@1 / hits@5 / MRR per split and per hop, and p50/p95 latency of one question.

    An alias of ``kgnlu eval qa --data DIR --model DIR --graph GRAPH`` (the same evaluator and JSON report;
    nothing written to disk)."""
    import torch

    from kgnlu.eval.task_runs import eval_tasks

    torch.set_num_threads(threads)
    report = eval_tasks().get("qa").run(data=data, model=model, graph=graph, splits=split, limit=limit or 0,
                                        latency_samples=latency_samples, out=None).report
    if as_json:
        print(json.dumps(report))
        return
    for name, m in report["splits"].items():
        hops = ", ".join(f"{h}-hop {v['hits@1']:.3f}" for h, v in m["by_hops"].items())
        print(f"{name}: hits@1 {m['hits@1']:.3f} ({hops}), hits@5 {m['hits@5']:.3f}, MRR {m['mrr']:.3f}, "
              f"{m['questions']} questions")
    lat = report.get("latency_ms", {})
    if "p50" in lat:
        print(f"latency: p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms ({lat['questions']} questions)")
