{#
    Accents folded to ASCII with translate() (portable across engines):
    José -> Jose, Łukasz -> Lukasz, Müller -> Muller; ß and æ/œ become two letters.
    Expects lower-case input. Only a value with a character outside printable
    ASCII goes through translate(): DuckDB reads the long mapping on every row it
    is given, far slower than the check, and most names and streets are plain
    ASCII, which folding leaves as they are.
#}
{% macro fold_accents(expression) -%}
    case
        when {{ regexp_contains(expression, '[^ -~]') }} then
            replace(replace(replace(replace(translate(
                {{ expression }},
                'àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżž',
                'aaaaaaaaacccccddeeeeeeeeegggghhiiiiiiiiijklllllnnnnooooooooorrrsssstttuuuuuuuuuuwyyyzzz'
            ), 'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th')
        else {{ expression }}
    end
{%- endmacro %}

{# Display name: trimmed, whitespace collapsed, Capitalised Words. Accents kept. #}
{% macro clean_name(column) -%}
    {{ proper_case(clean_text(column)) }}
{%- endmacro %}

{# Matching key for a name: lower case, accents folded, letters only ("O'Neil" -> oneil). #}
{% macro name_key(column) -%}
    nullif({{ regexp_replace_all(fold_accents('lower(' ~ clean_text(column) ~ ')'), '[^a-z]', '') }}, '')
{%- endmacro %}

{#
    Nickname-canonical first name: the formal name a nickname stands for
    (bob -> robert) from seed `nicknames`, else the key itself. A lookup into
    reference data (correlated subquery) keeps staging free of joins.
#}
{% macro canonical_first_name(first_name_key) -%}
    coalesce(
        (
            select nicknames.canonical_name
            from {{ ref('nicknames') }} as nicknames
            where nicknames.nickname = {{ first_name_key }}
        ),
        {{ first_name_key }}
    )
{%- endmacro %}

{#
    The name of a person as one string key (canonical first name | last name):
    what the junk-identifier frequency rule counts distinct values of.
#}
{% macro person_name_key(first_name_canonical, last_name_key) -%}
    coalesce({{ first_name_canonical }}, '') || '|' || coalesce({{ last_name_key }}, '')
{%- endmacro %}
