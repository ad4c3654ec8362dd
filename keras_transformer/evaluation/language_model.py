"""Evaluating a language-model run: perplexity per token and bits per character on a split,
and a few held-out documents continued."""

from keras_transformer.decoding.options import GENERATION_DEFAULTS
from keras_transformer.evaluation.split import chosen_examples

# Prompts of the samples `evaluate` shows: the first words of held-out documents.
_SAMPLE_WORDS = 4


def evaluate_language_model(run, split="test", batch_size=64, limit=None, samples=3,
                            options=None):  # fmt: skip
    """A language-model run's perplexity per token and bits per character on a split
    (`language_model_scores` over blocks of the run's block size), and a few samples:
    the first words of the split's longest documents continued (`options`, default
    nucleus sampling, seeded; at most 48 new tokens).

    Returns:
        A dict: `split`, `documents`, `perplexity`, `bits_per_character`, `tokens`,
        `characters`, `block_size`, and `examples` (`{"prompt", "continuation"}`).
    """
    from keras_transformer.data.text import make_block_dataset
    from keras_transformer.decoding import Generator
    from keras_transformer.evaluation.perplexity import language_model_scores

    documents = chosen_examples(run, split, limit)
    model = run.load_model()
    block = run.train_config.block_size or run.model_config.sequence_length
    tokens = int(run.tokenizer.tokenize(documents).row_lengths().numpy().sum()) + 2 * len(documents)
    block = min(block, tokens - 1)  # a short split scores as one shorter block
    if block < 1:
        raise ValueError(f"The {split} split of {run.directory} holds no token to score.")
    dataset = make_block_dataset(documents, run.tokenizer, block, batch_size, shuffle=False)
    results = {"split": split, "documents": len(documents), "block_size": block}
    results.update(language_model_scores(model, dataset, run.tokenizer))
    generator = Generator(model, run.tokenizer)
    # The first words (at most half) of the longest distinct documents: a prompt that is a
    # whole one-line document has nothing left to continue.
    longest = sorted(dict.fromkeys(documents), key=lambda d: -len(d.split()))[:samples]
    prompts = [" ".join(d.split()[: min(_SAMPLE_WORDS, len(d.split()) // 2)]) for d in longest]
    prompts = [p for p in prompts if p]
    options = options or GENERATION_DEFAULTS.replace(max_new_tokens=48)
    continued = generator.generate(prompts, options) if prompts else []
    results["examples"] = [
        {"prompt": p, "continuation": c[len(p) :]} for p, c in zip(prompts, continued, strict=True)
    ]
    return results


def language_model_report(run_dir, results):
    """`evaluate`'s results in words (what `keras-transformer evaluate` prints)."""
    lines = []
    lines.append(
        f"\n{run_dir}: {results['split']} split, {results['documents']} documents, "
        f"{results['tokens']} tokens in blocks of {results['block_size']}"
    )
    lines.append(f"  {'perplexity':<20} {results['perplexity']:.3f} (per token)")
    lines.append(f"  {'bits_per_character':<20} {results['bits_per_character']:.3f}")
    for example in results["examples"]:
        lines.append(f"  sample: {example['prompt']!r} -> {example['continuation']!r}")
    return "\n".join(lines)
