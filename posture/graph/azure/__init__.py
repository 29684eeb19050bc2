"""Azure adapter: translates an inventory into the provider-neutral reachability vocabulary."""
