"""Customer-base models: who is still buying, how often, how much, and what a customer is worth.

Pure numpy/scipy: `transactions` turns purchase rows into the per-customer summary
(frequency, recency, age, mean repeat value); `bgnbd` and `paretonbd` model the count of
repeat purchases, `gammagamma` the spend per purchase, and `clv` combines them.
"""
