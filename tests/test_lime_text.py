"""LimeText: parity with lime.lime_text on the same masks, a planted keyword, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from lime.lime_text import LimeTextExplainer

import keras_explain as kx

FILLER = (
    "the a film movie plot cast story scene actor music long short old new red blue city night day "
    "house road water light dark quiet loud slow fast small big early late"
).split()
KEYWORD = "excellent"
VOCABULARY = FILLER + [KEYWORD]
LENGTH = 12


def lime_masks(seed, num_samples, num_words):
    """The masks lime's LimeTextExplainer(random_state=seed) draws for a text of `num_words` words."""
    state = np.random.RandomState(seed)
    sizes = state.randint(1, num_words + 1, num_samples - 1)
    masks = np.ones((num_samples, num_words))
    for row, size in enumerate(sizes, start=1):
        masks[row, state.choice(range(num_words), size, replace=False)] = 0
    return masks


def lime_sampler(seed):
    return lambda num_samples, num_words, rng: lime_masks(seed, num_samples, num_words)


def string_classifier(model):
    # Keras's predict() does not take string arrays: one direct call.
    return lambda texts: model(tf.constant(texts)[:, None], training=False).numpy()


@pytest.fixture(scope="module")
def string_model():
    """Strings -> TextVectorization -> Embedding -> mean -> tanh -> softmax (3 classes), seeded."""
    keras.utils.set_random_seed(11)
    text = keras.Input(shape=(1,), dtype="string")
    ids = keras.layers.TextVectorization(vocabulary=VOCABULARY, output_sequence_length=LENGTH)(text)
    hidden = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(len(VOCABULARY) + 2, 6)(ids))
    hidden = keras.layers.Dense(5, activation="tanh")(hidden)
    return keras.Model(text, keras.layers.Dense(3, activation="softmax")(hidden))


@pytest.fixture(scope="module")
def id_model():
    """Token ids (N, 12) -> Embedding -> mean -> softmax (3 classes): blind to word order."""
    keras.utils.set_random_seed(12)
    ids = keras.Input(shape=(LENGTH,), dtype="int32")
    hidden = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(40, 5)(ids))
    hidden = keras.layers.Dense(4, activation="tanh")(hidden)
    return keras.Model(ids, keras.layers.Dense(3, activation="softmax")(hidden))


def planted_texts(count, seed):
    """Random filler sentences; half hold the keyword once or twice. Label: the keyword occurs."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(count):
        words = list(rng.choice(FILLER, size=rng.integers(6, 11)))
        if i % 2:
            for _ in range(rng.integers(1, 3)):
                words.insert(int(rng.integers(0, len(words) + 1)), KEYWORD)
        texts.append(" ".join(words))
        labels.append(i % 2)
    return np.array(texts), np.array(labels)


@pytest.fixture(scope="module")
def planted_model():
    """A bag-of-words classifier trained to say whether the keyword occurs (seconds to train)."""
    keras.utils.set_random_seed(13)
    text = keras.Input(shape=(1,), dtype="string")
    bag = keras.layers.TextVectorization(vocabulary=VOCABULARY, output_mode="multi_hot")(text)
    model = keras.Model(text, keras.layers.Dense(2, activation="softmax")(bag))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    texts, labels = planted_texts(400, seed=0)
    model.fit(tf.constant(texts)[:, None], labels, epochs=30, batch_size=64, verbose=0)
    return model


def _lime_reference(text, classifier, label, seed, num_samples, num_features, split, bow=True):
    explainer = LimeTextExplainer(split_expression=split, bow=bow, random_state=seed)
    found = explainer.explain_instance(
        text, classifier, labels=(label,), num_features=num_features, num_samples=num_samples
    )
    weights = dict(found.local_exp[label])
    return found, weights


STRING_TEXTS = [
    "the film had a long plot and the cast was old",
    "excellent music , quiet night",
    "Red city at night: the road, the water; the light!",
]


@pytest.mark.parametrize(
    "split, lime_split, bow",
    [("whitespace", r"\s+", True), ("words", r"\W+", True), (str.split, str.split, True), ("words", r"\W+", False)],
    ids=["whitespace", "words", "callable", "words-by-position"],
)
def test_string_model_matches_lime_on_the_same_masks(string_model, split, lime_split, bow):
    # bow=False: every occurrence is a feature, replaced by lime's "UNKWORDZ" when removed.
    seed, samples = 3, 600
    explainer = kx.LimeText(string_model, num_samples=samples, split=split, verbose=0)
    classifier = string_classifier(string_model)
    for text in STRING_TEXTS:
        ours = kx.LimeText(
            string_model, num_samples=samples, split=split, bow=bow, mask_sampler=lime_sampler(seed), verbose=0
        ).explain([text], num_features=4)
        label = int(ours.targets[0])
        found, weights = _lime_reference(text, classifier, label, seed, samples, 4, lime_split, bow)
        words = ours.tokens[0]
        expected = np.zeros(len(words))
        for feature, weight in weights.items():
            expected[feature] = weight
        # lime's features are its distinct words in order of appearance: ours too.
        assert words == list(found.domain_mapper.indexed_string.inverse_vocab)
        np.testing.assert_allclose(ours.attributions[0, : len(words)], expected, atol=1e-4)
        np.testing.assert_allclose(ours.intercept[0], found.intercept[label], atol=1e-4)
        np.testing.assert_allclose(ours.score[0], found.score, atol=1e-4)
        np.testing.assert_allclose(ours.local_pred[0], found.local_pred[0], atol=1e-4)
        listed, reference = ours.as_list(0), found.as_list(label)
        assert [w for w, _ in listed] == [w for w, _ in reference]
        np.testing.assert_allclose([v for _, v in listed], [v for _, v in reference], atol=1e-4)
    assert explainer.get_config()["num_samples"] == samples


def test_id_model_matches_lime_on_the_same_masks(id_model):
    ids = np.array(
        [[5, 9, 5, 17, 3, 22, 9, 30, 0, 0, 0, 0], [7, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]], np.int32
    )

    def classifier(texts):
        # A removed word leaves lime's string; padding it back with 0 gives the
        # same ids as ours up to their order, which this model does not read.
        rows = np.zeros((len(texts), LENGTH), np.int32)
        for row, text in enumerate(texts):
            words = [int(w) for w in text.split()]
            rows[row, : len(words)] = words
        return id_model.predict(rows, batch_size=2048, verbose=0)

    seed, samples = 5, 500
    e = kx.LimeText(id_model, num_samples=samples, mask_sampler=lime_sampler(seed), verbose=0).explain(ids)
    assert e.tokens == [["5", "9", "17", "3", "22", "30"], ["7", "8"]]
    for i, row in enumerate(ids):
        text = " ".join(str(v) for v in row if v != 0)
        label = int(e.targets[i])
        found, weights = _lime_reference(text, classifier, label, seed, samples, 10, r"\s+")
        expected = np.zeros(e.attributions.shape[1])
        for feature, weight in weights.items():
            expected[feature] = weight
        np.testing.assert_allclose(e.attributions[i], expected, atol=1e-4)
        np.testing.assert_allclose(e.intercept[i], found.intercept[label], atol=1e-4)
        np.testing.assert_allclose(e.score[i], found.score, atol=1e-4)
        np.testing.assert_allclose(e.local_pred[i], found.local_pred[0], atol=1e-4)
    np.testing.assert_array_equal(e.token_features[1], [0, 0, 1] + [-1] * 9)


def test_planted_keyword_is_the_top_token_and_top5_agrees_with_lime(planted_model):
    texts, labels = planted_texts(60, seed=1)
    positive = texts[labels == 1][:20]
    e = kx.LimeText(planted_model, num_samples=1000, random_state=0, verbose=0).explain(positive, targets=1)
    top = [e.tokens[i][int(np.argmax(np.abs(e.attributions[i, : e.num_tokens[i]])))] for i in range(len(e))]
    fraction = np.mean([word == KEYWORD for word in top])
    assert fraction >= 0.9, fraction
    classifier = string_classifier(planted_model)
    overlaps = []
    for i, text in enumerate(positive[:6]):
        _, weights = _lime_reference(text, classifier, 1, 7, 5000, 5, r"\s+")
        ours = np.argsort(-np.abs(e.attributions[i, : e.num_tokens[i]]), kind="stable")[:5]
        theirs = sorted(weights, key=lambda f: -abs(weights[f]))[:5]
        assert theirs[0] == ours[0] == e.tokens[i].index(KEYWORD)
        overlaps.append(len(set(ours) & set(theirs)) / 5)
    assert np.mean(overlaps) >= 0.8, overlaps


def test_random_state_gives_identical_results_whatever_the_batch_size(string_model):
    texts = STRING_TEXTS

    def run(**options):
        return kx.LimeText(string_model, num_samples=300, verbose=0, **options).explain(texts)

    first = run(random_state=4)
    for batch_size in (7, 64, 1000):
        again = run(random_state=4, batch_size=batch_size)
        np.testing.assert_array_equal(again.attributions, first.attributions)
        np.testing.assert_array_equal(again.intercept, first.intercept)
        np.testing.assert_array_equal(again.score, first.score)
    assert not np.array_equal(run(random_state=5).attributions, first.attributions)


def test_removing_a_word_removes_every_occurrence(string_model, tmp_path):
    # With bow, "the" (twice) is one feature; its spans list every occurrence.
    e = kx.LimeText(string_model, num_samples=50, random_state=0, verbose=0).explain([STRING_TEXTS[0]])
    assert e.tokens[0] == ["the", "film", "had", "a", "long", "plot", "and", "cast", "was", "old"]
    assert [s for s in e.token_spans[0] if s[2] == 0] == [[0, 3, 0], [29, 32, 0]]
    assert STRING_TEXTS[0][29:32] == "the"
    assert e.num_tokens.tolist() == [10] and e.token_space == "words"
    loaded = kx.Explanation.load(e.save(tmp_path / "words.npz"))
    assert loaded.tokens == e.tokens and loaded.token_spans == e.token_spans
    np.testing.assert_array_equal(loaded.inputs, e.inputs)


def test_bad_inputs_and_options_are_refused(string_model, id_model):
    explainer = kx.LimeText(string_model, num_samples=20, verbose=0)
    with pytest.raises(ValueError) as numbers:
        explainer.explain(np.ones((2, 3), np.float32))
    assert str(numbers.value) == (
        "x: expected text: a list or array of N strings, one per example, for a model taking "
        "strings, received an array of shape (2, 3) and dtype float32."
    )
    with pytest.raises(ValueError) as empty:
        explainer.explain(["a good film", " "])
    assert str(empty.value) == (
        "x: expected at least one word in every example, received example 1 with none (' ')."
    )
    with pytest.raises(ValueError) as nothing:
        explainer.explain(["", "a good film"])
    assert str(nothing.value) == (
        "x: expected at least one word in every example, received example 0 with none ('')."
    )
    with pytest.raises(ValueError) as split:
        kx.LimeText(string_model, split="comma")
    assert str(split.value) == (
        "split: expected 'whitespace', 'words' or a callable text -> list of tokens, received 'comma'."
    )
    with pytest.raises(ValueError, match=r"^mask_token: expected None or a str for a model taking strings"):
        kx.LimeText(string_model, mask_token=0)
    with pytest.raises(ValueError, match=r"^x: expected integer token ids of shape \(N, T\)"):
        kx.LimeText(id_model, num_samples=20, verbose=0).explain(["some text"])


def test_auto_samples_equal_the_fixed_run_of_the_same_count(planted_model):
    """num_samples="auto": each text's result is the fixed run with e.samples_used[i] samples."""
    texts, labels = planted_texts(12, seed=2)
    positive = texts[labels == 1][:4]
    e = kx.LimeText(planted_model, num_samples="auto", max_samples=2048, random_state=0, verbose=0).explain(
        positive, targets=1
    )
    assert set(e.samples_used) <= {128, 256, 512, 1024, 2048}
    for i, text in enumerate(positive):
        count = e.num_tokens[i]
        fixed = kx.LimeText(planted_model, num_samples=int(e.samples_used[i]), random_state=0, verbose=0)
        # Draws are addressed by (text, sample): the same text at the same place, the same masks.
        found = fixed.explain(positive, targets=1)
        np.testing.assert_array_equal(found.attributions[i, :count], e.attributions[i, :count])
        assert e.tokens[i][int(np.argmax(e.attributions[i, :count]))] == KEYWORD
        stopped = e.samples_used[i] < 2048
        largest = np.abs(e.attributions[i, :count]).max()
        assert not stopped or e.standard_errors[i, 0, :count].max() <= 0.05 * largest
