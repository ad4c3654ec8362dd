"""`Translator` beyond search: the cross-attention weights of a decoded sentence."""

from keras_transformer.decoding import Translator
from keras_transformer.run import Run


def test_cross_attention_weights_are_distributions_over_the_source(run_dir):

    source = Run.open(run_dir).splits.test[1][0]
    translator = Translator.from_run(run_dir)
    # (The search without XLA: the weights are what is checked.)
    _, source_tokens, target_tokens, weights = translator.cross_attention(source, jit_compile=False)
    assert "".join(source_tokens) == source
    assert weights.shape == (4, len(target_tokens), len(source_tokens))
    assert abs(weights.sum(-1) - 1).max() < 1e-3
