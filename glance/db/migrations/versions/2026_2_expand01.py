"""Expand step of the 2026.2 release (additive schema changes).

Revision ID: 2026_2_expand01
Revises: base01
"""

revision = '2026_2_expand01'
down_revision = 'base01'
branch_labels = ('expand',)
depends_on = None


def upgrade():
    pass
