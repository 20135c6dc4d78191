"""Tiny seeded models shared across the tests (built once per session).

The builders live in helpers/models.py; each fixture here builds its model
or data once per session through the function of the same name.
"""

import pytest
from helpers import method_cases as cases
from helpers import models


@pytest.fixture(scope="session")
def linear_weights():
    return models.linear_weights()


@pytest.fixture(scope="session")
def linear_models(linear_weights):
    """The same linear map y = x W + b as Sequential, Functional and subclassed."""
    return models.linear_models(*linear_weights)


@pytest.fixture(scope="session")
def linear_model(linear_models):
    return linear_models["functional"]


@pytest.fixture(scope="session")
def rows():
    return models.rows()


@pytest.fixture(scope="session")
def tanh_mlp():
    return models.tanh_mlp()


@pytest.fixture(scope="session")
def regressor():
    return models.regressor()


@pytest.fixture(scope="session")
def small_cnn():
    return models.small_cnn()


@pytest.fixture(scope="session")
def images():
    return models.images()


@pytest.fixture(scope="session")
def quadrant_task():
    """A small CNN trained to tell which quadrant holds the bright square (see helpers.models)."""
    return models.quadrant_task()


@pytest.fixture(scope="session")
def method_cases(tanh_mlp, small_cnn, images, rows):
    """name -> Case: one small configuration of every registered method (helpers.method_cases)."""
    return cases.method_cases(tanh_mlp, small_cnn, images, rows)
