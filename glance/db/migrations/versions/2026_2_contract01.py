"""Contract step of the 2026.2 release (removals once code no longer
needs the old schema).

Revision ID: 2026_2_contract01
Revises: base01
"""

revision = '2026_2_contract01'
down_revision = 'base01'
branch_labels = ('contract',)
depends_on = '2026_2_expand01'


def upgrade():
    pass
