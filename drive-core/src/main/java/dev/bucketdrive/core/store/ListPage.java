package dev.bucketdrive.core.store;

import java.util.List;

/**
 * One page of a listing, in the store's key order (UTF-8 binary).
 *
 * @param commonPrefixes the "directories" rolled up by the delimiter, each ending with it
 * @param nextToken      pass to the next call to continue; {@code null} on the last page
 */
public record ListPage(List<ObjectSummary> objects, List<String> commonPrefixes, String nextToken) {
    public ListPage {
        objects = List.copyOf(objects);
        commonPrefixes = List.copyOf(commonPrefixes);
    }

    public boolean truncated() {
        return nextToken != null;
    }
}
