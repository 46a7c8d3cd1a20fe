"""Metadata definitions: namespaces, their objects, properties and tags,
resource type associations, their JSON schemas, and the seed catalog.

``records`` holds what the others share (loading a namespace as a caller
may see it, name and text checks, row views).
"""
