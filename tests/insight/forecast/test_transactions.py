import numpy as np
import pytest

from kam.insight.forecast.maths.transactions import (
    TransactionFileError,
    Transactions,
    read_transactions_csv,
    summarise,
)

from ..cdnow import PUBLISHED_SUMMARY


def test_cdnow_summary_matches_the_published_one(cdnow_summary):
    # given the summary published with the CDNOW sample (x, t_x, T, zbar to two decimals)
    published = np.genfromtxt(PUBLISHED_SUMMARY, delimiter=",", names=True)
    # then ours, from the raw lines, is the same customer by customer
    assert len(cdnow_summary) == 2357
    assert cdnow_summary.repeat.sum() == 946
    assert np.array_equal(cdnow_summary.customers, published["ID"])
    assert np.array_equal(cdnow_summary.frequency, published["x"])
    assert np.allclose(cdnow_summary.recency, published["t_x"], atol=0.005)
    assert np.allclose(cdnow_summary.age, published["T"], atol=0.005)
    assert np.allclose(cdnow_summary.mean_value, published["zbar"], atol=0.0051)


def test_same_day_lines_are_one_transaction_with_the_summed_amount():
    # given two lines on one day and one the next day
    transactions = Transactions.from_rows(["A", "A", "A"], ["2024-01-02", "2024-01-01", "2024-01-01"], [5, 10, 2.5])
    # then there are two transactions, the first one summed
    assert len(transactions) == 2
    assert transactions.amount.tolist() == [12.5, 5.0]
    assert transactions.day.astype(str).tolist() == ["2024-01-01", "2024-01-02"]


def test_summary_counts_repeat_days_within_the_calibration_window():
    # given A buying on days 0, 7, 7, 21 and after the end; B starting after the end
    transactions = Transactions.from_rows(
        ["A", "A", "A", "A", "A", "B"],
        ["2024-01-01", "2024-01-08", "2024-01-08", "2024-01-22", "2024-03-01", "2024-02-01"],
        [10, 20, 5, 35, 99, 1],
    )
    # when summarised to 2024-01-29 (28 days after A's first purchase)
    summary = summarise(transactions, calibration_end="2024-01-29", period="week")
    # then B is left out and A has x = 2, t_x = 3 weeks, T = 4 weeks, mean repeat value (25+35)/2
    assert summary.customers.tolist() == ["A"]
    assert summary.frequency.tolist() == [2]
    assert summary.recency.tolist() == [3.0]
    assert summary.age.tolist() == [4.0]
    assert summary.mean_value.tolist() == [30.0]
    in_months = summarise(transactions, calibration_end="2024-01-29", period="month")
    assert in_months.age[0] == pytest.approx(28 / (365.25 / 12))


def test_csv_reader_accepts_both_date_forms_quotes_and_extra_columns():
    data = (
        "\ufeffAmount,Customer,Date,Note\n"
        "10.5,C1,2024-01-01,x\n"
        "4.5,C1,20240101,\n"
        "\n"
        '7,"C2, Ltd",20240229,"a, b"\n'
    ).encode()
    transactions = read_transactions_csv(data)
    assert transactions.customers.tolist() == ["C1", "C2, Ltd"]
    assert transactions.amount.tolist() == [15.0, 7.0]
    assert transactions.day.astype(str).tolist() == ["2024-01-01", "2024-02-29"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"id,date,amount\n1,2024-01-01,3\n", "line 1, column customer: the first line must be a header"),
        (b"customer,date,amount\n", "line 2, column -: there are no transactions"),
        (b"customer,date,amount\nA,2024-01-01,3\nA,2023-02-29,3\n",
         "line 3, column date: '2023-02-29' is not a date written YYYY-MM-DD or YYYYMMDD"),
        (b"customer,date,amount\nA,2024/01/01,3\n", "line 2, column date: '2024/01/01' is not a date"),
        (b"customer,date,amount\nA,20241301,3\n", "line 2, column date: '20241301' is not a date"),
        (b"customer,date,amount\nA,2024-01-01,3\n\nA,2024-01-02,ten\n",
         "line 4, column amount: 'ten' is not an amount"),
        (b"customer,date,amount\nA,2024-01-01,-3\n", "line 2, column amount: '-3' is not an amount"),
        (b"customer,date,amount\nA,2024-01-01,3\nA,2024-01-02\n",
         "line 3, column -: expected 3 comma-separated fields"),
        (b'customer,date,amount\n"A,2024-01-01,3\n', "line 2, column -: expected 3 comma-separated fields"),
        (b"customer,date,amount\n ,2024-01-01,3\n", "line 2, column customer: the customer code is empty"),
        (b"customer,date,amount\nA,2024-01-01,\xff\n", "line 2, column -: the file must be UTF-8"),
    ],
)
def test_csv_reader_names_the_line_column_and_rule(text, expected):
    with pytest.raises(TransactionFileError) as caught:
        read_transactions_csv(text)
    assert str(caught.value).startswith(expected)


def test_csv_reader_reports_every_bad_line_in_order():
    text = b"customer,date,amount\nA,2024-13-01,x\nB,2024-01-01,1\nC,bad,2\n"
    with pytest.raises(TransactionFileError) as caught:
        read_transactions_csv(text)
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, "date"), (2, "amount"), (4, "date")]


def test_csv_reader_handles_a_million_rows_quickly(tmp_path):
    # given a million lines (10,000 customers, random days of 2024)
    rng = np.random.default_rng(7)
    n = 1_000_000
    days = (np.datetime64("2024-01-01") + rng.integers(0, 366, n)).astype(str)
    customers = np.char.add("C", rng.integers(0, 10_000, n).astype(str))
    lines = np.char.add(np.char.add(np.char.add(customers, ","), days), ",12.5")
    path = tmp_path / "big.csv"
    path.write_text("customer,date,amount\n" + "\n".join(lines.tolist()) + "\n")
    # when read and summarised
    transactions = read_transactions_csv(path)
    summary = summarise(transactions, calibration_end="2024-12-31")
    # then each customer's days are distinct and the counts add up
    assert len(summary) == 10_000
    assert summary.frequency.sum() + len(summary) == len(transactions) <= n
