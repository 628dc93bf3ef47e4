# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# cgsnap build. `make help` lists the targets.

VERSION := 0.1.0
# libcgsnap's own: 1 since samples are copied out (cgsnap_sample__copy())
LIBVERSION := 1.0.0
SOVERSION := 1

OUTPUT ?= .output
ifeq ($(SAN),1)
OUTPUT := .output/san
endif

CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
ARCH := $(shell uname -m | sed 's/x86_64/x86/' | sed 's/aarch64/arm64/' \
	  | sed 's/ppc64le/powerpc/' | sed 's/mips.*/mips/' | sed 's/riscv64/riscv/' \
	  | sed 's/loongarch64/loongarch/')

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=

VMLINUX := vmlinux/vmlinux.h
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := bpf/cgsnap.h $(wildcard bpf/*.bpf.h)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

# user/: one folder per stage of the data path (docs/ARCHITECTURE.md)
USER_DIRS := lib kernel cgroups k8s collect agent export cli common
# libcgsnap: the snapshotter and its settings table, pure logic
LIB_SRCS := $(wildcard user/lib/*.c)
# everything else the cgsnap binary and the tests share
APP_SRCS := $(filter-out $(LIB_SRCS) user/cli/cgsnap.c,$(wildcard $(patsubst %,user/%/*.c,$(USER_DIRS))))
LIB_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))
LIB_PIC_OBJS := $(patsubst user/%.c,$(OUTPUT)/pic/%.o,$(LIB_SRCS))
APP_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(APP_SRCS))
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_OBJS := $(patsubst tests/%.c,$(OUTPUT)/tests/%.o,$(TEST_SRCS) tests/testlib.c tests/snaplib.c tests/runlib.c tests/kernlib.c tests/kubelet_stub.c)

LIBS_PC := libbpf jansson libmicrohttpd zlib libcurl
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null || echo -lbpf -lelf -lz -ljansson -lmicrohttpd -lcurl)

WARNINGS := -Wall -Wextra -Werror -Wmissing-field-initializers -Werror=undef \
	    -Wno-unused-parameter
CFLAGS ?= -g -O2
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ifeq ($(SAN),1)
CFLAGS += $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
endif
ALL_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -DCGSNAP_VERSION='"$(VERSION)"' \
	      -I$(OUTPUT) -Ibpf $(patsubst %,-Iuser/%,$(USER_DIRS)) $(DEP_CFLAGS)
# each object's own header dependencies, found by the compiler (.d beside the .o)
DEPFLAGS := -MMD -MP
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Ibpf
LDLIBS := $(DEP_LIBS) -lm -lpthread

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all
all: $(OUTPUT)/cgsnap $(OUTPUT)/libcgsnap.a $(OUTPUT)/libcgsnap.so $(OUTPUT)/cgsnap.pc

.PHONY: help
help:
	@echo 'Targets:'
	@echo '  all        build cgsnap, libcgsnap.{a,so} and cgsnap.pc into $(OUTPUT)/'
	@echo '  setup      install the Debian packages the project needs (scripts/setup.sh)'
	@echo '  run        set up, build, and run the main job'
	@echo '  test       set up, build, run the tests, the Crawlee client'"'"'s, then again under ASan+UBSan'
	@echo '  check-crawlee  the Crawlee client'"'"'s tests alone (clients/crawlee: npm ci, npm test)'
	@echo '  bench      set up, build, and print the benchmark figures'
	@echo '  fuzz       set up, build the libFuzzer targets, run each FUZZ_SECONDS (30)'
	@echo '  vmtest     set up, build, run the kernel tests on Debian 6.1 and 6.12 (qemu, pure v2)'
	@echo '  install    install into $$(DESTDIR)$$(PREFIX) (PREFIX=$(PREFIX))'
	@echo '  vmlinux    regenerate vmlinux/vmlinux.h from /sys/kernel/btf/vmlinux'
	@echo '  clean      remove .output/'
	@echo 'Variables: V=1 shows the commands, SAN=1 builds with ASan+UBSan into .output/san'

.PHONY: setup
setup:
	$(Q)./scripts/setup.sh

$(OUTPUT) $(OUTPUT)/tests:
	$(Q)mkdir -p $@

.PHONY: vmlinux
vmlinux:
	$(call msg,GEN,$(VMLINUX))
	$(Q)./scripts/gen-vmlinux-h.sh $(VMLINUX)

# BPF: object, then skeleton
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o | $(OUTPUT)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# userspace objects: the headers each includes come from its .d; the
# skeletons are made before the first compile, which has no .d yet
$(OUTPUT)/obj/%.o: user/%.c | $(OUTPUT) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/pic/%.o: user/%.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -fPIC -c $< -o $@

$(OUTPUT)/libcgsnap.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/libcgsnap.so: $(LIB_PIC_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libcgsnap.so.$(SOVERSION) -o $@.$(LIBVERSION) $^
	$(Q)ln -sf libcgsnap.so.$(LIBVERSION) $@.$(SOVERSION)
	$(Q)ln -sf libcgsnap.so.$(LIBVERSION) $@

# regenerated every time: PREFIX may differ between make and make install
$(OUTPUT)/cgsnap.pc: cgsnap.pc.in FORCE | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(LIBVERSION)|' $< > $@

$(OUTPUT)/cgsnap: $(OUTPUT)/obj/cli/cgsnap.o $(APP_OBJS) $(OUTPUT)/libcgsnap.a
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# tests
$(OUTPUT)/tests/%.o: tests/%.c | $(OUTPUT)/tests $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/cgsnap-tests: $(TEST_OBJS) $(APP_OBJS) $(OUTPUT)/libcgsnap.a $(OUTPUT)/cgsnap
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $(TEST_OBJS) $(APP_OBJS) $(OUTPUT)/libcgsnap.a $(LDLIBS) -lcriterion -o $@

$(OUTPUT)/cgsnap-workload: tests/workload.c | $(OUTPUT)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -std=gnu11 $(LDFLAGS) $< -lpthread -o $@

$(OUTPUT)/cgsnap-bench: $(OUTPUT)/tests/bench.o $(OUTPUT)/tests/bench_detect.o $(APP_OBJS) \
			$(OUTPUT)/libcgsnap.a
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

.PHONY: check
check: $(OUTPUT)/cgsnap-tests $(OUTPUT)/cgsnap-workload
	$(call msg,TEST,$<)
	$(Q)CGSNAP_BIN=$(OUTPUT)/cgsnap CGSNAP_SAN=$(SAN) ./scripts/run-tests.sh $(OUTPUT)/cgsnap-tests

# the Crawlee client (clients/crawlee) against @crawlee/core as its lockfile
# pins it, and a real AutoscaledPool beside a real cgsnap run
.PHONY: check-crawlee
check-crawlee: $(OUTPUT)/cgsnap $(OUTPUT)/cgsnap-workload
	$(call msg,TEST,clients/crawlee)
	$(Q)cd clients/crawlee && npm ci --no-audit --no-fund --loglevel=error && \
		CGSNAP_BIN=$(abspath $(OUTPUT)/cgsnap) \
		CGSNAP_WORKLOAD=$(abspath $(OUTPUT)/cgsnap-workload) npm test --silent

.PHONY: test
test: setup
	$(Q)./scripts/check-install.sh
	$(Q)$(MAKE) --no-print-directory check
	$(Q)$(MAKE) --no-print-directory check-crawlee
	$(Q)$(MAKE) --no-print-directory SAN=1 check

.PHONY: run
run: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./scripts/run.sh $(OUTPUT)/cgsnap

.PHONY: bench
bench: setup
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/cgsnap-bench $(OUTPUT)/cgsnap-workload
	$(Q)./scripts/bench.sh $(OUTPUT)

# the kernel tests and an end-to-end check on other kernels, pure cgroup v2,
# in qemu (scripts/vmtest.sh); VMTEST_KERNELS picks some of "6.1 6.12"
VMTEST_KERNELS ?= 6.1 6.12
.PHONY: vmtest
vmtest: setup
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/cgsnap-tests $(OUTPUT)/cgsnap-workload
	$(Q)./scripts/vmtest.sh $(OUTPUT) $(VMTEST_KERNELS)

# fuzzing: libFuzzer (clang), with ASan and UBSan, every user/ source but main
FUZZ_OUT := .output/fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	       $(filter-out -Werror -g -O2,$(ALL_CFLAGS)) -I$(OUTPUT)
FUZZ_OBJS := $(patsubst user/%.c,$(FUZZ_OUT)/obj/%.o,$(LIB_SRCS) $(APP_SRCS))

$(FUZZ_OUT)/obj/%.o: user/%.c | $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(call msg,FUZZER,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) $(LDLIBS) -o $@

.PHONY: fuzz
fuzz: setup
	$(Q)$(MAKE) --no-print-directory $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_TARGETS))
	$(Q)./scripts/fuzz.sh $(FUZZ_OUT) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: install
install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/cgsnap
	$(Q)install -m 0755 $(OUTPUT)/cgsnap $(DESTDIR)$(BINDIR)/cgsnap
	$(Q)install -m 0644 $(OUTPUT)/libcgsnap.a $(DESTDIR)$(LIBDIR)/libcgsnap.a
	$(Q)install -m 0755 $(OUTPUT)/libcgsnap.so.$(LIBVERSION) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf libcgsnap.so.$(LIBVERSION) $(DESTDIR)$(LIBDIR)/libcgsnap.so.$(SOVERSION)
	$(Q)ln -sf libcgsnap.so.$(LIBVERSION) $(DESTDIR)$(LIBDIR)/libcgsnap.so
	$(Q)install -m 0644 user/lib/snapshotter.h $(DESTDIR)$(INCLUDEDIR)/cgsnap/snapshotter.h
	$(Q)install -m 0644 $(OUTPUT)/cgsnap.pc $(DESTDIR)$(LIBDIR)/pkgconfig/cgsnap.pc

.PHONY: clean
clean:
	$(call msg,CLEAN)
	$(Q)rm -rf .output

.DELETE_ON_ERROR:
.SECONDARY:

.PHONY: FORCE
FORCE:

# the header dependencies the compiler wrote (none before the first build)
-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
