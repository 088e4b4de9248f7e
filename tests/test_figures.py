"""Figures loader: the three formats, scales, header aliases and every bad-input message."""

from __future__ import annotations

import pytest

from assistant.core.errors import InputError
from assistant.core.figures import Figure, format_value, load_figures, parse_figure_rows, write_figures


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_yaml_list_and_mapping_forms(tmp_path):
    a = _write(
        tmp_path / "a.yaml",
        "- {item: 新闻发布会, value: 23, unit: 次}\n- {item: 阅读量, value: 44.1, unit: 万人次, id: R1}\n",
    )
    b = _write(tmp_path / "b.yml", "figures:\n  - item: 新闻发布会\n    value: 23\n    unit: 次\n")
    figs = load_figures(a)
    assert [f.id for f in figs] == ["F01", "R1"]
    assert figs[1].base_value == 441000 and figs[1].base_unit == "人次"
    assert load_figures(b)[0].value == 23


@pytest.mark.parametrize(
    "value,unit,base,base_unit",
    [
        (44.1, "万人次", 441000, "人次"),
        (1300, "万元", 13_000_000, "元"),
        (2.5, "亿元", 250_000_000, "元"),
        (23, "次", 23, "次"),
        (95.6, "%", 95.6, "%"),
    ],
)
def test_scale_folded_into_base(value, unit, base, base_unit):
    f = Figure(id="X", item="x", value=value, unit=unit)
    assert (f.base_value, f.base_unit) == (base, base_unit)


def test_csv_utf8_bom_and_chinese_headers_and_separators(tmp_path):
    p = _write(
        tmp_path / "f.csv",
        '\ufeff编号,项目,数值,单位,章节,备注\nA1,收发文件,"1,300",件,1.1,\nA2,增长率,３.５,%,,同比\n',
    )
    figs = load_figures(p)
    assert [(f.id, f.value, f.unit) for f in figs] == [("A1", 1300, "件"), ("A2", 3.5, "%")]
    assert figs[0].section == "1.1" and figs[1].note == "同比"


def test_csv_gbk(tmp_path):
    p = _write(tmp_path / "f.csv", "项目,数值,单位\n代表联络站接待群众,12000,人次\n调研报告,9,篇\n", "gbk")
    figs = load_figures(p)
    assert figs[0].item == "代表联络站接待群众" and figs[1].unit == "篇"


def test_xlsx_first_sheet(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sh = book.active
    sh.append(["项目", "数值", "单位"])
    sh.append(["新闻发布会", 12, "次"])
    sh.append([None, None, None])
    sh.append(["培训", "96", "人"])
    book.save(tmp_path / "f.xlsx")
    figs = load_figures(tmp_path / "f.xlsx")
    assert [(f.id, f.value) for f in figs] == [("F01", 12), ("F03", 96)]


def test_a_percentage_typed_into_excel_is_the_number_shown(tmp_path):
    # typing 98% into Excel stores 0.98 with the format 0%: the office means 98 (达到98%)
    import openpyxl

    book = openpyxl.Workbook()
    sh = book.active
    sh.append(["项目", "数值", "单位", "上年"])
    sh.append(["留言按时回复率", 0.98, "%", 0.905])
    sh.append(["群众满意率", 0.96, None, None])
    sh.append(["新闻发布会", 12, "次", 8])
    for row, fmt in ((2, "0%"), (3, "0%")):
        sh.cell(row=row, column=2).number_format = fmt
    sh.cell(row=2, column=4).number_format = "0.0%"
    book.save(tmp_path / "f.xlsx")
    figs = load_figures(tmp_path / "f.xlsx")
    assert [(f.value, f.unit, f.last_year) for f in figs] == [(98, "%", 90.5), (96, "%", None), (12, "次", 8)]


@pytest.mark.parametrize("suffix", [".yaml", ".csv", ".xlsx"])
def test_round_trip(tmp_path, suffix):
    figs = [
        Figure(id="F01", item="新闻发布会", value=12, unit="次", section="1.1"),
        Figure(id="F02", item="阅读量", value=44.1, unit="万人次", note="全平台"),
    ]
    path = tmp_path / f"out{suffix}"
    write_figures(figs, path)
    assert load_figures(path) == figs


def _err(tmp_path, name, text, encoding="utf-8") -> InputError:
    p = _write(tmp_path / name, text, encoding)
    with pytest.raises(InputError) as info:
        load_figures(p)
    return info.value


def test_missing_value_names_file_line_field(tmp_path):
    e = _err(tmp_path, "f.csv", "项目,数值,单位\n会议,12,次\n培训,,人\n")
    assert e.line == 3 and e.field == "数值" and "f.csv" in str(e) and "第 3 行" in str(e) and "缺少数值" in str(e)


def test_non_numeric_value(tmp_path):
    e = _err(tmp_path, "f.csv", "项目,数值,单位\n会议,约30,次\n")
    assert e.line == 2 and e.field == "数值" and "约30" in str(e)


def test_duplicate_id(tmp_path):
    e = _err(
        tmp_path, "f.yaml", "- {id: A, item: 会议, value: 1, unit: 次}\n- {id: A, item: 培训, value: 2, unit: 人}\n"
    )
    assert e.line == 2 and e.field == "编号" and "重复" in str(e)


def test_unknown_type_and_empty_and_missing(tmp_path):
    assert "不支持" in str(_err(tmp_path, "f.json", "[]"))
    assert "为空" in str(_err(tmp_path, "e.csv", ""))
    assert "为空" in str(_err(tmp_path, "e.yaml", "# nothing\n"))
    with pytest.raises(InputError, match="不存在"):
        load_figures(tmp_path / "none.yaml")


def test_missing_unit_column_and_missing_unit_cell(tmp_path):
    e = _err(tmp_path, "f.csv", "项目,数值\n会议,12\n")
    assert e.field == "单位" and e.line == 1
    e = _err(tmp_path, "g.yaml", "- {item: 会议, value: 12}\n")
    assert e.field == "单位"


def test_xlsx_error_line_is_sheet_row(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sh = book.active
    sh.append(["item", "value", "unit"])
    sh.append(["会议", 12, "次"])
    sh.append(["培训", "三十", "人"])
    book.save(tmp_path / "f.xlsx")
    with pytest.raises(InputError) as info:
        load_figures(tmp_path / "f.xlsx")
    assert info.value.line == 3 and info.value.field == "数值"


def test_parse_rows_from_ui_table():
    figs = parse_figure_rows([{"项目": "会议", "数值": "1 300", "单位": "次"}], "界面表格")
    assert figs[0].value == 1300
    with pytest.raises(InputError, match="界面表格"):
        parse_figure_rows([{"项目": "会议", "数值": "很多", "单位": "次"}], "界面表格")


def test_nothing_written_on_error(tmp_path):
    with pytest.raises(InputError):
        write_figures([Figure(id="F01", item="a", value=1, unit="次")], tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    "value, text",
    [
        (12.0, "12"),
        (52.6, "52.6"),
        (1234567.0, "1234567"),
        (12345.678, "12345.678"),
        (1e16, "10000000000000000"),
        (1e-7, "0.0000001"),
    ],
)
def test_values_are_written_as_a_person_writes_them(value, text):
    assert format_value(value) == text


def test_short_gbk_csv_is_not_misread(tmp_path):
    # one short GBK row: charset-normalizer alone guessed another encoding and loaded "劤壙랙꼈삔"
    p = _write(tmp_path / "f.csv", "item,value,unit\n新闻发布会,12,次\n", encoding="gbk")
    figs = load_figures(p)
    assert [(f.item, f.value, f.unit) for f in figs] == [("新闻发布会", 12, "次")]


def test_undecodable_file_is_an_input_error(tmp_path):
    p = _write(tmp_path / "f.csv", "item,value,unit\n会议,12,次\n", encoding="utf-16-le")
    p.write_bytes(b"\xff\xfe" + p.read_bytes()[:-1])  # UTF-16 BOM, then an odd byte count
    with pytest.raises(InputError, match="f.csv"):
        load_figures(p)


# ---------------------------------------------------------------- aliases, last_year, part_of (issue 10)


def test_optional_columns_aliases_last_year_part_of(tmp_path):
    p = _write(
        tmp_path / "f.csv",
        "编号,项目,数值,单位,别名,上年,所属\n"
        "news,编发新闻稿件,418,篇,新闻稿件、稿件,380,\n"
        "prov,省级以上媒体刊发稿件,68,篇,省级媒体;省级以上媒体；央媒,,news\n"
        "reads,微信公众号总阅读量,52.6,万人次,,41.2,\n",
    )
    news, prov, reads = load_figures(p)
    assert news.aliases == ["新闻稿件", "稿件"] and news.last_year == 380 and news.part_of is None
    assert prov.aliases == ["省级媒体", "省级以上媒体", "央媒"] and prov.last_year is None and prov.part_of == "news"
    assert reads.base_last_year == 412000 and reads.base_value == 526000  # scale folded in, like value


def test_yaml_aliases_as_list_and_zero_last_year(tmp_path):
    p = _write(
        tmp_path / "f.yaml",
        "- {id: A, item: 新闻发布会, value: 11, unit: 次, aliases: [发布会, 新闻发布], last_year: 0}\n",
    )
    (fig,) = load_figures(p)
    assert fig.aliases == ["发布会", "新闻发布"] and fig.last_year == 0 and fig.base_last_year == 0


def test_part_of_must_name_an_existing_id(tmp_path):
    e = _err(tmp_path, "f.csv", "编号,项目,数值,单位,所属\nA,稿件,418,篇,\nB,省级稿件,68,篇,C\n")
    assert e.line == 3 and e.field == "所属" and "“C”" in str(e) and "f.csv" in str(e)
    e = _err(tmp_path, "g.csv", "编号,项目,数值,单位,所属\nA,稿件,418,篇,A\n")
    assert e.line == 2 and e.field == "所属"


def test_last_year_must_be_a_number(tmp_path):
    e = _err(tmp_path, "f.csv", "项目,数值,单位,上年\n会议,12,次,约10\n")
    assert e.line == 2 and e.field == "上年" and "约10" in str(e)


@pytest.mark.parametrize("suffix", [".yaml", ".csv", ".xlsx"])
def test_round_trip_with_optional_columns(tmp_path, suffix):
    figs = [
        Figure(id="F01", item="编发新闻稿件", value=418, unit="篇", aliases=["新闻稿件", "稿件"], last_year=380),
        Figure(id="F02", item="省级以上媒体刊发稿件", value=68, unit="篇", part_of="F01"),
        Figure(id="F03", item="阅读量", value=52.6, unit="万人次", last_year=41.2),
    ]
    path = tmp_path / f"out{suffix}"
    write_figures(figs, path)
    assert load_figures(path) == figs


def test_files_without_optional_columns_are_written_as_before(tmp_path):
    figs = [Figure(id="F01", item="新闻发布会", value=12, unit="次")]
    write_figures(figs, tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_text(encoding="utf-8-sig").splitlines()[0] == "id,item,value,unit,section,note"
    write_figures(figs, tmp_path / "a.yaml")
    assert "aliases" not in (tmp_path / "a.yaml").read_text(encoding="utf-8")
    # only the columns some figure fills
    write_figures([*figs, Figure(id="F02", item="会议", value=3, unit="次", last_year=2)], tmp_path / "b.csv")
    header = (tmp_path / "b.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "id,item,value,unit,section,note,last_year"


@pytest.mark.parametrize("unit", ["次", "人", "万人次", "篇"])
def test_a_negative_count_is_refused_and_a_negative_rate_or_amount_is_not(unit):
    with pytest.raises(InputError) as err:
        parse_figure_rows([{"item": "新闻发布会", "value": -5, "unit": unit}], "数据表")
    assert err.value.field == "数值" and "不能为负数" in str(err.value)
    with pytest.raises(InputError) as err:
        parse_figure_rows([{"item": "新闻发布会", "value": 5, "unit": unit, "last_year": -2}], "数据表")
    assert err.value.field == "上年"
    signed = [("增速", -3.2, "%"), ("降幅", -0.5, "个百分点"), ("净出口", -120, "亿元"), ("最低气温", -12, "℃")]
    figs = parse_figure_rows([{"item": i, "value": v, "unit": u} for i, v, u in signed], "数据表")
    assert [f.value for f in figs] == [-3.2, -0.5, -120, -12]
