"""The three roles: what each is asked, with what context, and the shape of its answer."""
