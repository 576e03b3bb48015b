package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every flag of the command tree can also be given as a PUSHLAB_* variable,
// and the proxy's flags as keys of its config file. Highest first:
//
//	flag      --throttle-per-sec 5
//	variable  PUSHLAB_THROTTLE_PER_SEC=5
//	file      "ThrottlePerSec": 5 in --config (the proxy's settings only)
//	default
//
// A flag's variable is PUSHLAB_, its command's prefix (envPrefix) and its
// name upper-cased with "_" for "-": mockapns --dev-listen is
// PUSHLAB_APNS_DEV_LISTEN. A flag may name its own (envName), so that one
// variable serves several commands (PUSHLAB_KEYS). --help shows each.

// envKeys is the key set directory of every actor that reads one.
const envKeys = "PUSHLAB_KEYS"

// Annotations the binder reads: on a command, its variables' prefix; on a
// flag, its variable ("" for none) and the config-file key it overrides.
const (
	annEnvPrefix = "pushlab_env_prefix"
	annEnv       = "pushlab_env"
	annConfigKey = "pushlab_config_key"
	annAliasOf   = "pushlab_alias_of"
)

// envPrefix sets the prefix of the variables of cmd's flags, and of its
// subcommands' unless they set their own.
func envPrefix(cmd *cobra.Command, prefix string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annEnvPrefix] = prefix
	return cmd
}

// envName gives flag the variable env instead of the one its name makes;
// "" gives it none (an alias of another flag).
func envName(fs *pflag.FlagSet, flag, env string) {
	mustAnnotate(fs, flag, annEnv, env)
}

// configKey marks flag as overriding key of the proxy's config file.
func configKey(fs *pflag.FlagSet, flag, key string) {
	mustAnnotate(fs, flag, annConfigKey, key)
}

// alias adds --name as another name of fs's flag --of: the same value, no
// variable of its own.
func alias(fs *pflag.FlagSet, name, of string) {
	target := fs.Lookup(of)
	fs.Var(target.Value, name, "short for --"+of)
	mustAnnotate(fs, name, annAliasOf, of)
	envName(fs, name, "")
}

func mustAnnotate(fs *pflag.FlagSet, flag, key, value string) {
	if err := fs.SetAnnotation(flag, key, []string{value}); err != nil {
		panic(err) // a flag name mistyped in this package
	}
}

func annotation(f *pflag.Flag, key string) (string, bool) {
	v, ok := f.Annotations[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// bindTree names every flag's variable in the tree under root and adds it
// (and the config key) to the flag's --help line. Call it once the tree is
// built; applyEnv reads what it wrote.
func bindTree(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		prefix := commandPrefix(c)
		for _, fs := range []*pflag.FlagSet{c.PersistentFlags(), c.Flags()} {
			fs.VisitAll(func(f *pflag.Flag) { bindFlag(fs, f, prefix) })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func commandPrefix(c *cobra.Command) string {
	for ; c != nil; c = c.Parent() {
		if p, ok := c.Annotations[annEnvPrefix]; ok {
			return p
		}
	}
	return ""
}

func bindFlag(fs *pflag.FlagSet, f *pflag.Flag, prefix string) {
	env, named := annotation(f, annEnv)
	if !named {
		env = "PUSHLAB_" + prefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		envName(fs, f.Name, env)
	}
	var where []string
	if key, ok := annotation(f, annConfigKey); ok {
		where = append(where, "config "+key)
	}
	if env != "" {
		where = append(where, "env "+env)
	}
	if len(where) > 0 {
		f.Usage += " (" + strings.Join(where, ", ") + ")"
	}
}

// applyEnv sets each flag of fs that the command line left unset from its
// variable, as lookup (os.LookupEnv) finds it. A set flag counts as Changed,
// so "given by flag or variable" is one test. A value the flag does not
// take is an error naming the variable.
func applyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	fs.VisitAll(func(f *pflag.Flag) { // an alias given on the command line gives its flag
		if of, ok := annotation(f, annAliasOf); ok && f.Changed {
			fs.Lookup(of).Changed = true
		}
	})
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		env, _ := annotation(f, annEnv)
		if env == "" || f.Changed {
			return
		}
		v, ok := lookup(env)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: not a value for --%s: %w", env, v, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// overlay returns the JSON object file (a config file's text) with every
// flag of fs that has a config key and was given, by flag or variable, in
// place of that key: the file's values stay where nothing overrides them.
func overlay(file []byte, fs *pflag.FlagSet) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(file, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		obj = map[string]json.RawMessage{}
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		key, ok := annotation(f, annConfigKey)
		if _, isAlias := annotation(f, annAliasOf); !ok || isAlias || !f.Changed {
			return
		}
		var v json.RawMessage
		switch f.Value.Type() {
		case "string":
			v, _ = json.Marshal(f.Value.String())
		case "int", "bool", jsonFlagType:
			v = json.RawMessage(f.Value.String())
		default:
			errs = append(errs, fmt.Errorf("--%s: a %s flag has no config-file form", f.Name, f.Value.Type()))
			return
		}
		for k := range obj {
			if strings.EqualFold(k, key) { // encoding/json matches keys so
				delete(obj, k)
			}
		}
		obj[key] = v
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}

const jsonFlagType = "json"

// jsonFlag is a flag whose value is JSON as in the config file (the
// app-type lists); check says whether a value has the right shape.
type jsonFlag struct {
	raw   string
	check func([]byte) error
}

// newJSONFlag is a jsonFlag whose values must decode into a T.
func newJSONFlag[T any]() *jsonFlag {
	return &jsonFlag{check: func(b []byte) error { return json.Unmarshal(b, new(T)) }}
}

func (j *jsonFlag) String() string { return j.raw }
func (j *jsonFlag) Type() string   { return jsonFlagType }
func (j *jsonFlag) Set(s string) error {
	if err := j.check([]byte(s)); err != nil {
		return fmt.Errorf("want a JSON array as in the config file: %w", err)
	}
	j.raw = s
	return nil
}
