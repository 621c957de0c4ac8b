"""Money facts (issue 16): invoices issued against interests and payments received against
invoices; from them revenue per client and period, receivables, overdue receivables and days
overdue, per client and per manager.

    invoices  issue an invoice (its client kept equal to the interest's client), list them
    payments  record a payment: refused over what is owed unless an overpayment is asked for
    facts     revenue (sum of payments by `paid_on`), receivables (`amount - paid`), overdue
              (`due_on` before today with something owed), per client and per manager
    stages    a stage marked "invoice" or "paid" takes the interest when an invoice is issued
              or the last one is paid in full (the stage's robots then run as for any move)
    values    the checks of amounts, dates and numbers shared by the web, bot, API and import

`Invoice.paid` is the kept sum of the invoice's payments less their overpayments, so it
never exceeds `amount`; every write of a payment updates it in the same transaction."""
