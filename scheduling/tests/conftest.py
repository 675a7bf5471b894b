import pytest

from scheduling.tests.factories import CustomerFactory, ResourceFactory


@pytest.fixture
def resource(db):
    return ResourceFactory()


@pytest.fixture
def customer(db):
    return CustomerFactory()
