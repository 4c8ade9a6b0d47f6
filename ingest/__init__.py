"""Receiving files, sniffing their type and turning them into processed assets."""
