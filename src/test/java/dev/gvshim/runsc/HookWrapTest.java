package dev.gvshim.runsc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A spec's own host hooks are run by gvshim-hook, which gives them runc's state (the caller's id and
 * annotations, no pid once stopped) instead of runsc's: the wrapping in the spec runsc reads.
 */
class HookWrapTest {
    static final String WRAPPER = "/opt/gvshim/libexec/gvshim-hook";
    final SpecPolicyTest policy = new SpecPolicyTest();

    static Spec spec(String hooks, String annotations) throws Exception {
        return Spec.parse(("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'hooks':" + hooks + (annotations == null ? "" : ",'annotations':" + annotations) + "}")
                .replace('\'', '"').getBytes(StandardCharsets.UTF_8));
    }

    SpecPolicy.Result wrap(Spec s) throws Exception {
        return HookWrap.wrap(SpecPolicy.check(s, policy.ctx(SpecPolicyTest.R2022, true, null)),
                new HookWrap.Target(WRAPPER, "hk1", "/home/u/b", s.json().path("annotations").deepCopy()));
    }

    static List<String> args(JsonNode hook) {
        List<String> out = new ArrayList<>();
        hook.path("args").forEach(a -> out.add(a.asText()));
        return out;
    }

    @Test
    void eachHostHookRunsTheHookItselfThroughGvshimHookWithItsArgsEnvAndTimeout() throws Exception {
        Spec s = spec("{'prestart':[{'path':'/usr/bin/dockerd','args':['libnetwork-setkey','-exec-root=/run/docker','ab12'],"
                + "'env':['A=1'],'timeout':5}],'createRuntime':[{'path':'/bin/cni'}],'poststart':[{'path':'/bin/p','args':['p']}],"
                + "'poststop':[{'path':'/bin/q','args':['q','x y']}]}", "{'b':'2','a':'<1>'}");
        SpecPolicy.Result r = wrap(s);
        assertThat(r.changed()).as("runsc must read gvshim's copy").isTrue();
        JsonNode pre = r.spec().json().path("hooks").path("prestart").get(0);
        assertThat(pre.path("path").asText()).isEqualTo(WRAPPER);
        assertThat(args(pre)).as("the timeout is gvshim-hook's: runsc 2022-12's can hang its create")
                .containsExactly("gvshim-hook", "--timeout", "5", "--oci-state", "prestart", "hk1", "/home/u/b",
                "{\"a\":\"\\u003c1\\u003e\",\"b\":\"2\"}", "--", "/usr/bin/dockerd", "libnetwork-setkey",
                "-exec-root=/run/docker", "ab12");
        assertThat(pre.path("env").get(0).asText()).isEqualTo("A=1");
        assertThat(pre.has("timeout")).as("not runsc's").isFalse();
        JsonNode cni = r.spec().json().path("hooks").path("createRuntime").get(0);
        assertThat(args(cni)).as("no args: argv[0] is the path, as Go's exec.Cmd runs it").endsWith("--", "/bin/cni", "/bin/cni");
        assertThat(args(r.spec().json().path("hooks").path("poststart").get(0))).contains("poststart").endsWith("/bin/p", "p");
        assertThat(args(r.spec().json().path("hooks").path("poststop").get(0))).contains("poststop").endsWith("/bin/q", "q", "x y");
        assertThat(s.json().path("hooks").path("prestart").get(0).path("path").asText()).as("the caller's spec untouched")
                .isEqualTo("/usr/bin/dockerd");
        assertThat(r.rewrites()).anyMatch(w -> w.contains("hooks.prestart[0]"));
    }

    @Test
    void gvshimsOwnHookAndRelativePathsAreLeftAsTheyAre() throws Exception {
        Spec s = spec("{'poststart':[{'path':'" + WRAPPER + "','args':['gvshim-hook','--started','/run/x/started']}],"
                + "'prestart':[{'path':'rel/hook'}]}", null);
        SpecPolicy.Result r = wrap(s);
        assertThat(r.changed()).as("nothing to wrap: runsc reads the caller's spec").isFalse();
        assertThat(JsonTree.compact(r.spec().json().path("hooks"))).isEqualTo(JsonTree.compact(s.json().path("hooks")));
    }

    @Test
    void noAnnotationsAreNoneAndHugeOnesAreLeftToRunsc() throws Exception {
        assertThat(HookWrap.annotations(null)).isEmpty();
        assertThat(HookWrap.annotations(JsonTree.nodes().objectNode())).isEmpty();
        var big = JsonTree.nodes().objectNode().put("k", "v".repeat(HookWrap.MAX_ANNOTATIONS));
        assertThat(HookWrap.annotations(big)).isEqualTo("-");
        assertThat(HookWrap.goString("a\"b\\c\n\u0001&\u2028é")).isEqualTo("\"a\\\"b\\\\c\\n\\u0001\\u0026\\u2028é\"");
    }
}
