"""The local AWS's DynamoDB, closer to DynamoDB than moto is: TransactWriteItems at a cost per
item (transactions.py); UpdateItem's stream record and parsed expressions (updates.py).
"""
