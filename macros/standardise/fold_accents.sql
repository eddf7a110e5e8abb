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
