package dev.bucketdrive.s3;

import dev.bucketdrive.core.store.ObjectStoreContract;

/** The ObjectStore contract with what S3Proxy 3.3.0 does differently from S3, whatever store it keeps blobs in. */
abstract class S3ProxyContract extends ObjectStoreContract {

    /** S3Proxy 3.3.0 ignores If-Match / If-None-Match on CompleteMultipartUpload. */
    @Override
    protected boolean conditionalCompleteSupported() {
        return false;
    }

    /** It lists in UTF-16 order. */
    @Override
    protected boolean listsInUtf8Order() {
        return false;
    }
}
