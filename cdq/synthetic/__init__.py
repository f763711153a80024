"""Seeded synthetic Dutch customer data with known truth, and the bundled fixtures.

``generate_population`` draws the true entities, ``generate_records`` the varied records with their
``entity_id``; :mod:`cdq.synthetic.fixtures` writes ``fixtures/`` and :mod:`cdq.synthetic.reference` the demo
address table and a national-size synthetic BAG table.
"""

from cdq.synthetic.corrupt import generate_records
from cdq.synthetic.people import generate_population

__all__ = ["generate_population", "generate_records"]
