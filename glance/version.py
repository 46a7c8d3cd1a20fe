"""Version of the Image service package."""

VERSION = '0.1.0'
