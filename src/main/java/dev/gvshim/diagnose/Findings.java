package dev.gvshim.diagnose;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The findings of one diagnosis, one per id in the order the checks made them, and where in
 * `gvshim run`'s sequence ({@link Doctor#RUN_ORDER}) each cause found live would stop it.
 */
final class Findings {
    private final Map<String, Finding> byId = new LinkedHashMap<>();
    private final Map<String, Integer> position = new HashMap<>();

    void put(Finding f) {
        byId.put(f.id(), f);
    }

    /** A live result replaces the static guess with the same id, keeping its place in the order. */
    void override(Finding f) {
        Finding before = byId.get(f.id());
        byId.put(f.id(), before == null ? f
                : new Finding(f.id(), f.status(), before.group(), f.summary(), f.evidence(), f.fix()));
    }

    Finding get(String id) {
        return byId.get(id);
    }

    boolean has(String id) {
        return byId.containsKey(id);
    }

    List<Finding> all() {
        return new ArrayList<>(byId.values());
    }

    /** Where run would meet cause {@code id}: an index into {@link Doctor#RUN_ORDER}. */
    void position(String id, int index) {
        position.put(id, index);
    }

    boolean positioned(String id) {
        return position.containsKey(id);
    }

    /** The position recorded live for {@code id}, else {@code otherwise}. */
    int positionOf(String id, int otherwise) {
        return position.getOrDefault(id, otherwise);
    }
}
