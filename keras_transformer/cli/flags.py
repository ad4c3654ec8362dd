"""The flag groups the commands share, each declared once: settings generated from the
configuration dataclasses, and the decoding flags that build a `DecodingOptions`."""

import argparse
import dataclasses
import sys
import types
import typing

from keras_transformer.cli import arguments
from keras_transformer.cli.arguments import (
    finite_float,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    probability,
    seed,
)

# Fields whose flags are spelled out by hand or that the data decides, not generated from
# the dataclasses.
MANUAL = {"corpus", "out", "task", "vocabulary_size", "target_vocabulary_size", "num_classes",
          "segments"}  # fmt: skip


def field_type(field):
    """The Python type behind a dataclass field annotation (`int | None` -> int)."""
    annotation = field.type
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def add_dataclass_flags(parser, classes, title):
    """One `--field-name` flag per field of the dataclasses (a name once); defaults stay
    None = "not given"."""
    group = parser.add_argument_group(title)
    seen = set()
    for cls in classes if isinstance(classes, tuple) else (classes,):
        for field in dataclasses.fields(cls):
            if field.name in MANUAL or field.name in seen:
                continue
            seen.add(field.name)
            flag = "--" + field.name.replace("_", "-")
            kind = field_type(field)
            if kind is bool:
                group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
            elif kind in (int, float):
                group.add_argument(flag, type=arguments.field_type(field.name, kind),
                                   default=None, metavar=field.name.upper())  # fmt: skip
            else:
                group.add_argument(flag, type=kind, default=None, metavar=field.name.upper())


def given(args, cls):
    """The fields of `cls` given as flags."""
    return {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(cls)
        if f.name not in MANUAL and getattr(args, f.name, None) is not None
    }


def model_flags(args, task):
    """The model flags given, checked against the task's model configuration."""
    from keras_transformer import tasks

    config_class = task.config_class
    names = {f.name for f in dataclasses.fields(config_class)}
    others = {f.name for t in tasks.all_tasks() for f in dataclasses.fields(t.config_class)} - names
    wrong = sorted(n for n in others - MANUAL if getattr(args, n, None) is not None)
    if wrong:
        flags = ", ".join("--" + n.replace("_", "-") for n in wrong)
        raise ValueError(
            f"{flags}: not a setting of the {task.name!r} task's model "
            f"({config_class.__name__}); drop it, or choose the task it belongs to with --task."
        )
    return given(args, config_class)


def add_decoding_flags(parser):
    """The decoding flags of every command that decodes (`decoding_options` reads them);
    unset flags take the run's task's defaults."""
    group = parser.add_argument_group(
        "decoding (default: the task's: beam search, 4 beams, alpha 0.6 for translation; "
        "nucleus sampling, top-p 0.9, temperature 0.8, seed 0 for a language model)"
    )
    group.add_argument("--beam-width", "--beam", type=positive_int, metavar="N",
                       dest="beam_width",
                       help="beam search with N beams; --beam is the older name")  # fmt: skip
    group.add_argument("--greedy", action="store_true", help="the most likely token each step")
    group.add_argument("--alpha", type=finite_float, help="beam length penalty (0.6)")
    group.add_argument("--sample", action="store_true", help="sample from the whole distribution")
    group.add_argument("--top-k", type=non_negative_int,
                       help="sample from the K most likely tokens (0: all)")  # fmt: skip
    group.add_argument("--top-p", type=probability,
                       help="sample from the top-P probability mass, P in (0, 1]")  # fmt: skip
    group.add_argument("--temperature", type=positive_float, help="sampling temperature (> 0)")
    group.add_argument("--sampling-seed", "--seed", type=seed, dest="sampling_seed",
                       help="the seed of sampling (0); --seed is the older name")  # fmt: skip
    group.add_argument("--max-length", type=positive_int,
                       help="translation: most tokens to generate (a cap)")  # fmt: skip
    group.add_argument("--max-length-a", type=non_negative_float, metavar="A",
                       help="translation: at most A * source tokens + B new tokens "
                       "(default: 1.5)")  # fmt: skip
    group.add_argument("--max-length-b", type=non_negative_int, metavar="B",
                       help="see --max-length-a (default: 10)")  # fmt: skip
    group.add_argument("--max-new-tokens", type=positive_int,
                       help="a language model: tokens to add (64)")  # fmt: skip
    group.add_argument("--stop", action="append", metavar="TEXT",
                       help="a language model: end the continuation before this text "
                       "(repeatable), e.g. --stop $'\\n'")  # fmt: skip
    group.add_argument("--no-repeat-ngram-size", type=non_negative_int, metavar="N",
                       help="never repeat an n-gram of N tokens (0: off; default: 3, but off "
                       "for a character tokenizer)")  # fmt: skip
    group.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=True,
                       help="compile the decoding loop (default: on)")  # fmt: skip


def decoding_options(args, task, announce=False):
    """The `DecodingOptions` of the flags given, the task's defaults for the rest. With
    `announce`, says on stderr which strategy the defaults chose."""
    from keras_transformer.decoding.options import DecodingOptions

    base = task.decoding_defaults or DecodingOptions()
    sampling = (args.sample or args.top_k is not None or args.top_p is not None
                or args.temperature is not None)  # fmt: skip
    if sum(map(bool, (args.greedy, args.beam_width, sampling))) > 1:
        raise ValueError("Choose one of --greedy, --beam-width N, or sampling (--sample, "
                         "--top-k, --top-p, --temperature).")  # fmt: skip
    changes = {}
    if args.greedy:
        changes["strategy"] = "greedy"
    elif args.beam_width:
        changes.update(strategy="beam", beam_width=args.beam_width)
    elif sampling:
        changes.update(
            strategy="sample", top_k=args.top_k or 0,
            top_p=1.0 if args.top_p is None else args.top_p,
            temperature=args.temperature or 1.0,
        )  # fmt: skip
    values = {
        "alpha": args.alpha, "seed": args.sampling_seed, "max_length": args.max_length,
        "max_length_a": args.max_length_a, "max_length_b": args.max_length_b,
        "max_new_tokens": args.max_new_tokens,
        "no_repeat_ngram_size": args.no_repeat_ngram_size,
        "stop": tuple(args.stop) if args.stop else None,
    }  # fmt: skip
    changes.update({name: value for name, value in values.items() if value is not None})
    options = base.replace(jit_compile=args.jit_compile, **changes)
    if announce and not (args.greedy or args.beam_width or sampling):
        print(f"decoding: {options.describe()} (the default; --greedy, --beam-width N or the "
              "sampling flags choose another)", file=sys.stderr)  # fmt: skip
    return options


def texts(args):
    """The texts given as arguments, or one per line on stdin."""
    return args.texts or [line.rstrip("\n") for line in sys.stdin]


def training_output():
    """`model.fit`'s verbosity: progress bars on a terminal, a line an epoch otherwise."""
    return 1 if sys.stdout.isatty() else 2
