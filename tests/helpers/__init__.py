"""Code the tests share but that holds no tests itself.

* `models`: tiny seeded Keras models and small datasets, each built afresh
  by a function; tests/conftest.py turns them into session fixtures.
* `shap_reference`: a script that runs shap's DeepExplainer on saved models
  in a process of its own, for the parity checks of tests/test_deepshap.py.

The package is imported as `helpers`: pytest puts the tests folder on
`sys.path` when it loads tests/conftest.py.
"""
