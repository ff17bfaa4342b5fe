<?xml version="1.0" encoding="utf-8"?>
<!--
  Broadsheet's feeds (RSS 2.0 and Atom 1.0) as a readable page when opened in a browser.

  Every feed starts with <?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>: browsers apply
  this XSLT 1.0 stylesheet, feed readers ignore it. Text stays text (no disable-output-escaping):
  Atom titles and summaries are plain text; RSS ones are HTML-escaped text, so &lt; &gt; &amp; are
  turned back into the characters they stand for (the `unescape` template) and shown as text.
  Styles come from the site's own /static/style.css (the site's CSP allows no inline styles).
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom"
                xmlns:dc="http://purl.org/dc/elements/1.1/"
                exclude-result-prefixes="atom dc">
  <xsl:output method="html" encoding="utf-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="rss" select="boolean(/rss)"/>
  <xsl:variable name="self" select="(/atom:feed/atom:link[@rel='self'] | /rss/channel/atom:link[@rel='self'])[1]/@href"/>
  <xsl:variable name="home" select="(/atom:feed/atom:link[@rel='alternate']/@href | /rss/channel/link)[1]"/>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:call-template name="title"/> (feed)</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml"/>
        <link rel="stylesheet" href="/static/style.css"/>
      </head>
      <body>
        <main id="main" class="wrap feed-page">
          <h1><xsl:call-template name="title"/></h1>
          <p class="muted"><xsl:call-template name="description"/></p>
          <div class="notice feed-hint">
            <p><strong><xsl:choose><xsl:when test="$rss">This is an RSS feed.</xsl:when><xsl:otherwise>This is an Atom feed.</xsl:otherwise></xsl:choose></strong>
              Copy this URL into your feed reader to follow it:</p>
            <p><code class="feed-url"><xsl:value-of select="$self"/></code></p>
            <p class="muted">Or read it on the site: <a href="{$home}"><xsl:value-of select="$home"/></a></p>
          </div>
          <section class="cards" aria-label="Papers in this feed">
            <xsl:apply-templates select="/atom:feed/atom:entry | /rss/channel/item"/>
          </section>
          <xsl:if test="not(/atom:feed/atom:entry | /rss/channel/item)">
            <p class="notice">Nothing in this feed yet.</p>
          </xsl:if>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="title">
    <xsl:value-of select="/atom:feed/atom:title"/>
    <xsl:call-template name="unescape"><xsl:with-param name="text" select="/rss/channel/title"/></xsl:call-template>
  </xsl:template>

  <xsl:template name="description">
    <xsl:value-of select="/atom:feed/atom:subtitle"/>
    <xsl:call-template name="unescape"><xsl:with-param name="text" select="/rss/channel/description"/></xsl:call-template>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article class="card feed-entry">
      <div class="body">
        <h3 class="title"><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h3>
        <p class="authors">
          <xsl:for-each select="atom:author/atom:name">
            <xsl:value-of select="."/><xsl:if test="position() != last()">, </xsl:if>
          </xsl:for-each>
        </p>
        <p class="muted"><xsl:value-of select="substring(atom:published, 1, 10)"/>
          <xsl:for-each select="atom:category"> · <xsl:value-of select="@term"/></xsl:for-each></p>
        <p class="snippet"><xsl:value-of select="atom:summary"/></p>
      </div>
    </article>
  </xsl:template>

  <xsl:template match="item">
    <article class="card feed-entry">
      <div class="body">
        <h3 class="title"><a href="{link}">
          <xsl:call-template name="unescape"><xsl:with-param name="text" select="title"/></xsl:call-template>
        </a></h3>
        <p class="authors"><xsl:value-of select="dc:creator"/></p>
        <p class="muted"><xsl:value-of select="pubDate"/>
          <xsl:for-each select="category"> · <xsl:value-of select="."/></xsl:for-each></p>
        <p class="snippet">
          <xsl:call-template name="unescape"><xsl:with-param name="text" select="description"/></xsl:call-template>
        </p>
      </div>
    </article>
  </xsl:template>

  <!-- HTML-escaped text (RSS) back to its characters, output as text: &lt; &gt; then &amp; (last) -->
  <xsl:template name="unescape">
    <xsl:param name="text"/>
    <xsl:call-template name="replace">
      <xsl:with-param name="text">
        <xsl:call-template name="replace">
          <xsl:with-param name="text">
            <xsl:call-template name="replace">
              <xsl:with-param name="text" select="$text"/>
              <xsl:with-param name="from" select="'&amp;lt;'"/>
              <xsl:with-param name="to" select="'&lt;'"/>
            </xsl:call-template>
          </xsl:with-param>
          <xsl:with-param name="from" select="'&amp;gt;'"/>
          <xsl:with-param name="to" select="'&gt;'"/>
        </xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="from" select="'&amp;amp;'"/>
      <xsl:with-param name="to" select="'&amp;'"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="text"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($text, $from)">
        <xsl:value-of select="substring-before($text, $from)"/>
        <xsl:value-of select="$to"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="text" select="substring-after($text, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
