"""Expense tracker API (brief #4): exact amounts by category and currency, with summaries."""

from litestar import Router

from apps.expenses.routes import ExpenseController

router = Router(path="/expenses", route_handlers=[ExpenseController], tags=["expenses"])

__all__ = ["router"]
