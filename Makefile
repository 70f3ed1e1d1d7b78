# ptcancel: build, install, uninstall (GNU make).
#
#   make                 release libraries for $(ARCHES), soname libptcancel.so.0 (in target/make)
#   make install         PREFIX=/usr/local; DESTDIR is honoured; ARCHES="x86_64 i386"
#   make uninstall       removes exactly what `make install` installed (same PREFIX and DESTDIR)
#   make test            bash tests/run.sh: set-up if missing, then cargo test --workspace
#   make demo            bash examples/demo.sh
#   make header          regenerates include/ptcancel.h (cbindgen 0.29.0)
#
# Installed, per arch: $(LIBDIR_<arch>)/libptcancel.so.$(VERSION), its links libptcancel.so.0 and
# libptcancel.so, libptcancel.a and pkgconfig/ptcancel.pc; once: $(INCLUDEDIR)/ptcancel.h,
# $(BINDIR)/ptcancel (the launcher) and the list of what was installed, $(MANIFEST).

PREFIX ?= /usr/local
DESTDIR ?=
ARCHES ?= x86_64 i386
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR_x86_64 ?= $(PREFIX)/lib/x86_64-linux-gnu
LIBDIR_i386 ?= $(PREFIX)/lib/i386-linux-gnu
DATADIR ?= $(PREFIX)/share
MANIFEST = $(DATADIR)/ptcancel/installed-files
# Run after installing into the real system (no DESTDIR) as root: the loader's cache learns the
# soname. `make install LDCONFIG=:` skips it.
LDCONFIG ?= ldconfig
CARGO ?= cargo

VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
SONAME := libptcancel.so.$(firstword $(subst ., ,$(VERSION)))
REALNAME := libptcancel.so.$(VERSION)
TARGET_x86_64 := x86_64-unknown-linux-gnu
TARGET_i386 := i686-unknown-linux-gnu
BUILD := target/make
out = $(BUILD)/$(TARGET_$(1))/release

ifneq ($(filter-out x86_64 i386,$(ARCHES)),)
$(error ARCHES may hold x86_64 and i386 only, not "$(ARCHES)")
endif

.PHONY: all build-x86_64 build-i386 install uninstall test demo header
all: $(addprefix build-,$(ARCHES))

# Cargo decides what to rebuild. The soname is a link argument of this build only (its own target
# dir, so the plain `cargo build` outputs stay as they are); no test hooks in these libraries.
build-x86_64 build-i386: build-%:
	@sysroot=$$(rustc --print sysroot) && [ -d "$$sysroot/lib/rustlib/$(TARGET_$*)" ] || \
	  { echo "make: the Rust target $(TARGET_$*) is missing: rustup target add $(TARGET_$*) (or make ARCHES=x86_64 ...)" >&2; exit 1; }
	$(CARGO) rustc --quiet --release --lib -p ptcancel --target $(TARGET_$*) --target-dir $(BUILD) \
	  -- -C link-arg=-Wl,-soname,$(SONAME)

# The install, in shell (the .pc files and the launcher are made here: they name the install paths). Every directory it creates and every file it puts in place is recorded
# in the manifest (directories it found already there are not), so that uninstall can remove
# exactly those. Installing again adds to the record of the previous install.
define install_script
set -e
dest='$(DESTDIR)'
manifest='$(MANIFEST)'
list=$$(mktemp)
if [ -f "$$dest$$manifest" ]; then cat "$$dest$$manifest" >"$$list"; fi
mkdirs() {
  case $$1 in /|.) mkdir -p "$$dest/"; return 0 ;; esac
  [ -d "$$dest$$1" ] && return 0
  mkdirs "$$(dirname "$$1")"
  mkdir "$$dest$$1"
  grep -qxF "d $$1" "$$list" || echo "d $$1" >>"$$list"
}
put() { # put MODE SOURCE PATH
  mkdirs "$$(dirname "$$3")"
  install -m "$$1" "$$2" "$$dest$$3"
  echo "f $$3" >>"$$list"
}
link() { # link TARGET PATH
  ln -sfn "$$1" "$$dest$$2"
  echo "f $$2" >>"$$list"
}
# The manifest first, and written even if a step fails: what is in place is on the list.
mkdirs "$$(dirname "$$manifest")"
echo "f $$manifest" >>"$$list"
trap 'sort -u "$$list" >"$$dest$$manifest"; chmod 644 "$$dest$$manifest"; rm -f "$$list"' EXIT
$(foreach a,$(ARCHES),
put 0755 $(call out,$(a))/libptcancel.so $(LIBDIR_$(a))/$(REALNAME)
link $(REALNAME) $(LIBDIR_$(a))/$(SONAME)
link $(SONAME) $(LIBDIR_$(a))/libptcancel.so
put 0644 $(call out,$(a))/libptcancel.a $(LIBDIR_$(a))/libptcancel.a
sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR_$(a))|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
  -e 's|@VERSION@|$(VERSION)|g' -e 's|@SONAME@|$(SONAME)|g' -e 's|@ARCH@|$(a)|g' \
  ptcancel.pc.in >$(BUILD)/ptcancel-$(a).pc
put 0644 $(BUILD)/ptcancel-$(a).pc $(LIBDIR_$(a))/pkgconfig/ptcancel.pc
)
put 0644 include/ptcancel.h $(INCLUDEDIR)/ptcancel.h
sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SONAME@|$(SONAME)|g' \
  -e 's|@LIBDIR_X86_64@|$(LIBDIR_x86_64)|g' -e 's|@LIBDIR_I386@|$(LIBDIR_i386)|g' \
  bin/ptcancel.in >$(BUILD)/ptcancel
put 0755 $(BUILD)/ptcancel $(BINDIR)/ptcancel
endef
export install_script

install: all
	@if [ "$(LIBDIR_x86_64)" = "$(LIBDIR_i386)" ]; then \
	  echo "make: LIBDIR_x86_64 and LIBDIR_i386 must differ" >&2; exit 1; fi
	@sh -c "$$install_script"
	@echo "installed ptcancel $(VERSION) ($(ARCHES)) under $(DESTDIR)$(PREFIX); list: $(DESTDIR)$(MANIFEST)"
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG); fi

# Files first, then the directories install created, deepest first, each only if now empty.
uninstall:
	@set -e; dest='$(DESTDIR)'; manifest='$(MANIFEST)'; \
	if ! [ -f "$$dest$$manifest" ]; then \
	  echo "make: nothing to uninstall: no $$dest$$manifest (installed with another PREFIX or DESTDIR?)" >&2; exit 1; fi; \
	list=$$(cat "$$dest$$manifest"); \
	echo "$$list" | sed -n 's/^f //p' | while IFS= read -r f; do rm -f "$$dest$$f"; done; \
	echo "$$list" | sed -n 's/^d //p' | sort -r | while IFS= read -r d; do \
	  rmdir "$$dest$$d" 2>/dev/null || :; done; \
	echo "uninstalled ptcancel from $$dest$(PREFIX)"
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG); fi

test:
	bash tests/run.sh

demo:
	bash examples/demo.sh

header:
	cbindgen --config cbindgen.toml --output include/ptcancel.h
