#!/bin/sh
# Runs inside LocalStack when it is ready: the bucket BucketDrive's docs use.
awslocal s3 mb s3://team
