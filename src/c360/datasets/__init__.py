"""Public benchmark data sets mapped into the raw folder of the source contract.

python -m c360.datasets.febrl --dataset febrl1 --out DIR [--format csv|parquet]
"""
