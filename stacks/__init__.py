"""Pulumi program of Stackyard (`pulumi up` on Pulumi.<env>.yaml); components come per concern."""
