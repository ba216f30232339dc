from apps.dbbackup.ordering import ForeignKey, restore_order


def test_parents_come_before_children():
    keys = [ForeignKey("orders", "fk1", "customers"), ForeignKey("lines", "fk2", "orders")]
    order = restore_order(["lines", "orders", "customers"], keys)
    assert order.tables == ["customers", "orders", "lines"]
    assert order.depends_on["lines"] == {"orders"}
    assert not order.deferred


def test_a_cycle_defers_only_its_own_keys():
    keys = [
        ForeignKey("departments", "manager", "employees"),
        ForeignKey("employees", "department", "departments"),
        ForeignKey("employees", "mentor", "employees"),
        ForeignKey("badges", "owner", "employees"),
        ForeignKey("employees", "site", "sites"),
    ]
    order = restore_order(["badges", "departments", "employees", "sites"], keys)
    assert order.deferred == {
        ("departments", "manager"),
        ("employees", "department"),
        ("employees", "mentor"),
    }
    assert order.tables.index("sites") < order.tables.index("employees")
    assert order.tables.index("employees") < order.tables.index("badges")
    assert sorted(order.tables) == ["badges", "departments", "employees", "sites"]


def test_keys_to_unselected_tables_are_ignored_and_ties_keep_input_order():
    order = restore_order(["b", "a"], [ForeignKey("b", "fk", "elsewhere")])
    assert order.tables == ["b", "a"]
    assert order.depends_on == {"b": set(), "a": set()}


def test_a_long_chain_does_not_recurse():
    names = [f"t{i}" for i in range(5000)]
    keys = [ForeignKey(names[i], "fk", names[i + 1]) for i in range(4999)]
    keys.append(ForeignKey(names[4999], "back", names[0]))
    order = restore_order(names, keys)
    assert len(order.deferred) == 5000
