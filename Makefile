# Installs iommuscope: the binary, its man page and its bash, zsh and fish completions.
#   make install                       # into /usr/local (may need sudo)
#   make install PREFIX=$HOME/.local   # DESTDIR=... stages the tree for a package
#   make install BINARY=.build/debug/iommuscope   # a binary already built: installed as it is
# The binary carries its themes and default scenario, so it runs from any directory.
PREFIX ?= /usr/local
CONFIGURATION ?= release
SWIFT ?= swift
# An iommuscope already built (a debug build, a CI artefact); empty builds one in CONFIGURATION.
BINARY ?=
# The man page, made from the commands by argument-parser's generate-manual plugin.
MANUAL ?= .build/plugins/GenerateManual/outputs/iommuscope/iommuscope.1
ROOT = $(DESTDIR)$(PREFIX)
INSTALLED = $(ROOT)/bin/iommuscope $(ROOT)/share/man/man1/iommuscope.1 \
	$(ROOT)/share/bash-completion/completions/iommuscope $(ROOT)/share/zsh/site-functions/_iommuscope \
	$(ROOT)/share/fish/vendor_completions.d/iommuscope.fish

.PHONY: build install uninstall

build:
	$(SWIFT) build -c $(CONFIGURATION) --product iommuscope
	$(SWIFT) package plugin generate-manual --configuration $(CONFIGURATION)

# With BINARY given nothing is built: the man page must be there already (make build made it).
install: $(if $(BINARY),,build)
	@test -f $(MANUAL) || { echo "make: no man page at $(MANUAL): run make build, or name one with MANUAL=" >&2; exit 1; }
	install -d $(ROOT)/bin $(ROOT)/share/man/man1 $(ROOT)/share/bash-completion/completions \
		$(ROOT)/share/zsh/site-functions $(ROOT)/share/fish/vendor_completions.d
	install -m 755 "$(if $(BINARY),$(BINARY),$$($(SWIFT) build -c $(CONFIGURATION) --show-bin-path)/iommuscope)" $(ROOT)/bin/iommuscope
	install -m 644 $(MANUAL) $(ROOT)/share/man/man1/iommuscope.1
	$(ROOT)/bin/iommuscope --generate-completion-script bash > $(ROOT)/share/bash-completion/completions/iommuscope
	$(ROOT)/bin/iommuscope --generate-completion-script zsh > $(ROOT)/share/zsh/site-functions/_iommuscope
	$(ROOT)/bin/iommuscope --generate-completion-script fish > $(ROOT)/share/fish/vendor_completions.d/iommuscope.fish

uninstall:
	rm -f $(INSTALLED)
